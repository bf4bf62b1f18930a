//! A stand-in for the network, for debug builds only (`api/mod.rs` compiles
//! this module under `debug_assertions`, so release builds carry neither the
//! hook nor anything installed in it). The designers' preview installs one
//! at mount; the client asks whatever is installed and never names the
//! preview. While it answers, no request leaves the browser.

use std::cell::RefCell;
use std::rc::Rc;

use futures::future::LocalBoxFuture;
use maeum_contract::business::Upload;
use wasm_bindgen::JsValue;

use super::errors::{Reply, UploadError};

/// Reports `(sent, total)` bytes of an upload.
pub type Progress = Rc<dyn Fn(f64, f64)>;

pub trait Responder {
    /// The answer to a JSON request (`body` as sent), or `None` to send it
    /// to the real backend.
    fn respond(&self, method: &str, url: &str, body: Option<&JsValue>) -> Option<Reply>;

    /// The answer to an evidence upload, or `None` to send it.
    fn upload(
        &self,
        file: &web_sys::File,
        on_progress: Progress,
    ) -> Option<LocalBoxFuture<'static, Result<Upload, UploadError>>>;
}

thread_local! {
    static INSTALLED: RefCell<Option<Rc<dyn Responder>>> = const { RefCell::new(None) };
}

/// Installs `responder` in place of the network (for every later request).
pub fn install(responder: impl Responder + 'static) {
    INSTALLED.with(|i| *i.borrow_mut() = Some(Rc::new(responder)));
}

/// Sends every later request to the network again (a test's responder must
/// not answer the next test's requests).
pub fn uninstall() {
    INSTALLED.with(|i| *i.borrow_mut() = None);
}

fn installed() -> Option<Rc<dyn Responder>> {
    INSTALLED.with(|i| i.borrow().clone())
}

pub(crate) fn respond(method: &str, url: &str, body: Option<&JsValue>) -> Option<Reply> {
    installed()?.respond(method, url, body)
}

pub(crate) fn upload(
    file: &web_sys::File,
    on_progress: Progress,
) -> Option<LocalBoxFuture<'static, Result<Upload, UploadError>>> {
    installed()?.upload(file, on_progress)
}
