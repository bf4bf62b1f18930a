//! A tiny router: `location.pathname` → [`Route`] (every path the app
//! parses is parsed here), History API `pushState` / `popstate`, and plain
//! `<a href>` links intercepted for client-side navigation (they still work
//! with the wasm not loaded, or opened in a new tab).
//!
//! Not `leptos_router`: see the README ("Routes") for the measured reason.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use crate::api::business::clean_receipt_no;
use crate::business_draft::Step;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/` and `/package`: the 마음 패키지 page.
    Package,
    /// `/business…`: the small-business damage claim and channel cash.
    Business(BizView),
    NotFound,
}

impl Route {
    pub fn from_path(path: &str) -> Route {
        let path = path.split(['?', '#']).next().unwrap_or("");
        match path.trim_end_matches('/') {
            "" | "/index.html" | "/package" => Route::Package,
            p => BizView::from_path(p).map_or(Route::NotFound, Route::Business),
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Route::Package => "/",
            Route::Business(_) => "/business",
            Route::NotFound => "/404",
        }
    }

    pub fn current() -> Route {
        let path = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_default();
        Route::from_path(&path)
    }
}

/// Which screen of the small-business journey a path shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BizView {
    /// A step of the form; `None` is "wherever the user was".
    Form(Option<Step>),
    Done,
    /// A claim's status (the receipt number is read from the address).
    Status,
    Cash,
}

impl BizView {
    /// `None` when `path` is not part of the journey.
    pub fn from_path(path: &str) -> Option<BizView> {
        let path = path.split(['?', '#']).next().unwrap_or("");
        let path = path.trim_end_matches('/');
        let rest = path.strip_prefix("/business")?;
        match rest {
            "" => Some(BizView::Form(None)),
            "/done" => Some(BizView::Done),
            "/cash" => Some(BizView::Cash),
            _ => {
                let rest = rest.strip_prefix('/')?;
                if let Some(receipt) = rest.strip_prefix("claims/") {
                    return clean_receipt_no(receipt).map(|_| BizView::Status);
                }
                Step::from_slug(rest).map(|s| BizView::Form(Some(s)))
            }
        }
    }
}

/// The receipt number in the address (`/business/claims/D-2301-7Q4K93`).
pub fn receipt_in_path() -> Option<String> {
    let path = web_sys::window()?.location().pathname().ok()?;
    clean_receipt_no(path.strip_prefix("/business/claims/")?)
}

/// Whether the query string has `flag` (`from=check`).
pub fn query_has(flag: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|s| s.trim_start_matches('?').split('&').any(|p| p == flag))
}

/// Replaces the address without a history entry (a step the user may not see yet).
pub fn replace_path(path: &str) {
    if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(path));
    }
}

/// What navigation needs from the app: which routes this bundle draws, and
/// how to switch to one. (`AppCtx` implements it; the router knows no state.)
pub trait Navigator: Copy + 'static {
    /// Whether this bundle draws `route` (links elsewhere are full page loads).
    fn draws(self, route: Route) -> bool;
    /// Shows `route` in place, when it is not the one showing.
    fn switch(self, route: Route);
}

/// Keeps the route in step with the address bar: `popstate` (back/forward)
/// and clicks on same-origin links.
pub fn install(nav: impl Navigator) {
    let _ = window_event_listener(leptos::ev::popstate, move |_| nav.switch(Route::current()));
    let _ = window_event_listener(leptos::ev::click, move |ev| {
        let Some(path) = internal_link_target(&ev) else {
            return;
        };
        // This bundle's pages switch in place; another bundle's is a page load.
        if nav.draws(Route::from_path(&path)) {
            ev.prevent_default();
            navigate(nav, &path);
        }
    });
}

/// Pushes `path` onto the history and switches the route, or loads the page
/// when another bundle draws it.
pub fn navigate(nav: impl Navigator, path: &str) {
    if !nav.draws(Route::from_path(path)) {
        let _ = window().location().assign(path);
        return;
    }
    if let Ok(history) = window().history() {
        let _ = history.push_state_with_url(&JsValue::NULL, "", Some(path));
    }
    nav.switch(Route::from_path(path));
    window().scroll_to_with_x_and_y(0.0, 0.0);
}

/// The path to navigate to, when the click is a plain left click on a
/// same-origin `<a href>` that leaves the current page (not a `#fragment` of it).
fn internal_link_target(ev: &web_sys::MouseEvent) -> Option<String> {
    if ev.default_prevented()
        || ev.button() != 0
        || ev.meta_key()
        || ev.ctrl_key()
        || ev.shift_key()
        || ev.alt_key()
    {
        return None;
    }
    let target: web_sys::Element = ev.target()?.dyn_into().ok()?;
    let anchor: web_sys::HtmlAnchorElement = target.closest("a[href]").ok()??.dyn_into().ok()?;
    if !anchor.target().is_empty()
        || anchor.has_attribute("download")
        || anchor.has_attribute("data-reload")
    {
        return None;
    }
    let location = window().location();
    if anchor.origin() != location.origin().ok()? {
        return None;
    }
    let (path, search) = (anchor.pathname(), anchor.search());
    let same_page = path == location.pathname().ok()? && search == location.search().ok()?;
    if same_page && !anchor.hash().is_empty() {
        return None;
    }
    Some(format!("{path}{search}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_routes() {
        assert_eq!(Route::from_path("/"), Route::Package);
        assert_eq!(Route::from_path(""), Route::Package);
        assert_eq!(Route::from_path("/package"), Route::Package);
        assert_eq!(Route::from_path("/package/"), Route::Package);
        assert_eq!(
            Route::from_path("/business"),
            Route::Business(BizView::Form(None))
        );
        assert_eq!(
            Route::from_path("/business/claims/D-2301-7Q4K93?x=1"),
            Route::Business(BizView::Status)
        );
        assert_eq!(Route::from_path("/business/nope"), Route::NotFound);
        assert_eq!(Route::from_path("/package/x"), Route::NotFound);
        assert_eq!(Route::from_path(Route::Package.path()), Route::Package);
    }

    #[test]
    fn paths_map_to_journey_screens() {
        assert_eq!(BizView::from_path("/business"), Some(BizView::Form(None)));
        assert_eq!(BizView::from_path("/business/"), Some(BizView::Form(None)));
        assert_eq!(
            BizView::from_path("/business/damage?from=check"),
            Some(BizView::Form(Some(Step::Damage)))
        );
        assert_eq!(BizView::from_path("/business/done"), Some(BizView::Done));
        assert_eq!(BizView::from_path("/business/cash"), Some(BizView::Cash));
        assert_eq!(
            BizView::from_path("/business/claims/D-2301-7Q4K93"),
            Some(BizView::Status)
        );
        assert_eq!(BizView::from_path("/business/claims/../x"), None);
        assert_eq!(BizView::from_path("/business/nope"), None);
        assert_eq!(BizView::from_path("/businesses"), None);
        assert_eq!(BizView::from_path("/"), None);
    }
}
