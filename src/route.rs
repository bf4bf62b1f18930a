//! A tiny router: `location.pathname` → [`Route`], History API `pushState` /
//! `popstate`, and plain `<a href>` links intercepted for client-side
//! navigation (they still work with the wasm not loaded, or opened in a new tab).

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use crate::app::AppCtx;
use crate::pages::business::BizView;

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

/// Keeps the route in step with the address bar: `popstate` (back/forward)
/// and clicks on same-origin links.
pub fn install(ctx: AppCtx) {
    let _ = window_event_listener(leptos::ev::popstate, move |_| switch(ctx, Route::current()));
    let _ = window_event_listener(leptos::ev::click, move |ev| {
        let Some(path) = internal_link_target(&ev) else {
            return;
        };
        // This bundle's pages switch in place; another bundle's is a page load.
        if (ctx.journey.draws)(Route::from_path(&path)) {
            ev.prevent_default();
            navigate(ctx, &path);
        }
    });
}

/// Pushes `path` onto the history and switches the route, or loads the page
/// when another bundle draws it.
pub fn navigate(ctx: AppCtx, path: &str) {
    if !(ctx.journey.draws)(Route::from_path(path)) {
        let _ = window().location().assign(path);
        return;
    }
    if let Ok(history) = window().history() {
        let _ = history.push_state_with_url(&JsValue::NULL, "", Some(path));
    }
    switch(ctx, Route::from_path(path));
    window().scroll_to_with_x_and_y(0.0, 0.0);
}

fn switch(ctx: AppCtx, route: Route) {
    if ctx.route.get_untracked() != route {
        ctx.route.set(route);
        crate::browser::focus_heading();
    }
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
}
