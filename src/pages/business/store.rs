//! The state of the damage-claim journey, shared by its pages and living as
//! long as the app: the draft (autosaved on every change), the errors on show,
//! the evidence upload queue (two at a time, retried with backoff), and the
//! submit (queued on the device when the network fails, sent again when it
//! returns, always under the same Idempotency-Key).

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use leptos::task::spawn_local;
use maeum_contract::business::{
    sniff, EvidenceCategory, FieldError, MAX_EVIDENCE_BYTES, MAX_EVIDENCE_FILES,
};
use maeum_contract::problem::code;
use web_sys::File;

use crate::api::errors::UploadError;
use crate::api::retry::backoff_ms;
use crate::api::upload;
use crate::api::{self, ApiError};
use crate::browser::{new_idempotency_key, sleep};
use crate::business_draft::{self as draft, category_slug, Draft, FileState, SavedReceipt, Step};
use crate::state::AppCtx;

/// Uploads sending at once.
const UPLOAD_SLOTS: u8 = 2;
/// Automatic resends of one file before the user is asked.
const UPLOAD_RETRIES: u8 = 5;
/// Automatic resends of a queued claim while the page stays open and online.
const SUBMIT_RETRIES: u32 = 5;

/// Where the final submit is.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Submit {
    #[default]
    Idle,
    Sending,
    /// Failed on the network; kept on the device and sent when it returns.
    Queued,
    /// This business has filed already (the receipt, when the server named it).
    Conflict(Option<String>),
    /// A refusal the user has to see (with a way to try again).
    Failed(ApiError),
}

/// Handles to the journey's state. `Copy`; the signals never go away.
#[derive(Clone, Copy)]
pub struct Biz {
    pub draft: RwSignal<Draft>,
    /// Errors on show, and the step they belong to.
    pub errors: RwSignal<(Step, Vec<FieldError>)>,
    pub submit: RwSignal<Submit>,
    /// Polite announcements of upload progress (at 0, 25, 50, 75, 100 %).
    pub said: RwSignal<String>,
    /// Checks chosen files and queues the good ones for upload.
    adding: Action<(EvidenceCategory, Vec<File>), ()>,
    /// Sends the claim: `(automatic resends so far, key replaced once)`.
    sending: Action<(u32, bool), ()>,
}

thread_local! {
    static BIZ: Cell<Option<Biz>> = const { Cell::new(None) };
    static CTX: Cell<Option<AppCtx>> = const { Cell::new(None) };
    /// The chosen files not yet uploaded, by local key (not storable).
    static FILES: RefCell<Vec<(u32, File)>> = const { RefCell::new(Vec::new()) };
    static WORKERS: Cell<u8> = const { Cell::new(0) };
}

fn file(key: u32) -> Option<File> {
    FILES.with(|f| {
        f.borrow()
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, x)| x.clone())
    })
}

fn forget_file(key: u32) {
    FILES.with(|f| f.borrow_mut().retain(|(k, _)| *k != key));
}

/// Runs `f` with no reactive owner, so what it creates is never disposed
/// with a page (the journey's state outlives every screen).
fn unowned<T>(f: impl FnOnce() -> T) -> T {
    let current = Owner::current();
    if let Some(o) = current.clone() {
        o.unset();
    }
    let out = f();
    if let Some(o) = current {
        o.set();
    }
    out
}

impl Biz {
    /// The journey's state, loaded from storage the first time.
    pub fn get() -> Biz {
        if let Some(b) = BIZ.with(Cell::get) {
            return b;
        }
        // The actions run on the journey's state, which exists by the time
        // they are dispatched.
        let b = unowned(|| Biz {
            draft: RwSignal::new(draft::load()),
            errors: RwSignal::new((Step::Info, Vec::new())),
            submit: RwSignal::new(Submit::Idle),
            said: RwSignal::new(String::new()),
            adding: Action::new_local(|(category, files): &(EvidenceCategory, Vec<File>)| {
                Biz::get().check_files(*category, files.clone())
            }),
            sending: Action::new_local(|(attempt, rekeyed): &(u32, bool)| {
                Biz::get().deliver(*attempt, *rekeyed)
            }),
        });
        if b.draft.with_untracked(|d| d.queued) {
            b.submit.set(Submit::Queued);
        }
        BIZ.with(|c| c.set(Some(b)));
        b
    }

    fn ctx() -> Option<AppCtx> {
        CTX.with(Cell::get)
    }

    /// Changes the draft and saves it.
    pub fn edit(self, f: impl FnOnce(&mut Draft)) {
        f(&mut self.draft.write());
        self.save();
    }

    #[inline(never)]
    fn save(self) {
        self.draft.with_untracked(draft::save);
    }

    /// Changes the draft without saving (upload progress).
    fn touch(self, f: impl FnOnce(&mut Draft)) {
        f(&mut self.draft.write());
    }

    /// The errors to show on `step`.
    pub fn errors_on(self, step: Step) -> Vec<FieldError> {
        self.errors
            .with(|(s, e)| if *s == step { e.clone() } else { Vec::new() })
    }

    /// The message for `field`, if one is on show.
    pub fn error_for(self, field: &'static str) -> Signal<Option<String>> {
        Signal::derive(move || {
            self.errors.with(|(_, e)| {
                e.iter()
                    .find(|x| {
                        x.field == field
                            || x.field.starts_with(&format!("{field}."))
                            || x.field.starts_with(&format!("{field}["))
                    })
                    .map(|x| x.message.clone())
            })
        })
    }

    pub fn clear_errors(self) {
        if self.errors.with_untracked(|(_, e)| !e.is_empty()) {
            self.errors.set((Step::Info, Vec::new()));
        }
    }

    fn announce(self, text: String) {
        self.said.update(|s| {
            *s = if *s == text {
                format!("{text}\u{a0}")
            } else {
                text
            };
        });
    }

    // ---- evidence ----

    /// Checks each chosen file (count, size, first bytes) and queues the good ones.
    pub fn add_files(self, category: EvidenceCategory, files: Vec<File>) {
        self.adding.dispatch_local((category, files));
    }

    async fn check_files(self, category: EvidenceCategory, files: Vec<File>) {
        for f in files {
            let (name, size) = (f.name(), f.size().max(0.0) as u64);
            let refused = |m: &str| FileState::Failed {
                message: m.to_string(),
                retry: false,
            };
            let mut state = if size == 0 {
                refused("내용이 없는 빈 파일이에요. 다른 파일을 골라 주세요.")
            } else if size > MAX_EVIDENCE_BYTES {
                refused("파일 하나는 10MB까지 올릴 수 있어요. 더 작은 파일을 골라 주세요.")
            } else {
                match upload::read_head(&f).await.as_deref().and_then(sniff) {
                    Some(_) => FileState::Queued,
                    None => refused(
                        "사진(JPG, PNG, HEIC)이나 PDF 파일만 올릴 수 있어요. 파일 이름이 아니라 내용을 확인해요.",
                    ),
                }
            };
            if state == FileState::Queued
                && self.draft.with_untracked(|d| d.counted_files()) >= MAX_EVIDENCE_FILES
            {
                state = refused("증빙 파일은 모두 10개까지 올릴 수 있어요. 필요 없는 파일을 지운 뒤 올려 주세요.");
            }
            let queued = state == FileState::Queued;
            let mut key = 0;
            self.edit(|d| {
                key = d.next_file;
                d.next_file += 1;
                d.evidence.push(draft::EvidenceFile {
                    key,
                    name: name.clone(),
                    size,
                    category,
                    upload_id: None,
                    state,
                });
            });
            if queued {
                FILES.with(|x| x.borrow_mut().push((key, f)));
            } else {
                self.announce(format!("{name} 파일은 올릴 수 없어요."));
            }
        }
        self.pump();
    }

    /// Removes a file from the claim (stopping its upload).
    pub fn remove_file(self, key: u32) {
        upload::abort(key);
        forget_file(key);
        let mut name = String::new();
        self.edit(|d| {
            if let Some(f) = d.evidence.iter().find(|f| f.key == key) {
                name = f.name.clone();
            }
            d.evidence.retain(|f| f.key != key);
        });
        if !name.is_empty() {
            self.announce(format!("{name} 파일을 삭제했어요."));
        }
    }

    /// Sends a failed file again (the user's 다시 올리기).
    pub fn retry_file(self, key: u32) {
        if file(key).is_none() {
            return;
        }
        self.edit(|d| {
            if let Some(f) = d.file_mut(key) {
                f.state = FileState::Queued;
            }
        });
        self.pump();
    }

    /// Starts upload workers for queued files, at most [`UPLOAD_SLOTS`] at once.
    fn pump(self) {
        let queued = self.draft.with_untracked(|d| {
            d.evidence
                .iter()
                .filter(|f| f.state == FileState::Queued)
                .count()
        });
        let running = WORKERS.with(Cell::get);
        let start = queued.min(UPLOAD_SLOTS.saturating_sub(running) as usize);
        for _ in 0..start {
            WORKERS.with(|w| w.set(w.get() + 1));
            spawn_local(async move {
                while let Some(key) = self.take_queued() {
                    self.upload_one(key).await;
                }
                WORKERS.with(|w| w.set(w.get().saturating_sub(1)));
            });
        }
    }

    fn take_queued(self) -> Option<u32> {
        let mut taken = None;
        self.touch(|d| {
            if let Some(f) = d.evidence.iter_mut().find(|f| f.state == FileState::Queued) {
                f.state = FileState::Uploading(0);
                taken = Some(f.key);
            }
        });
        taken
    }

    fn set_state(self, key: u32, state: FileState, save: bool) {
        let f = move |d: &mut Draft| {
            if let Some(f) = d.file_mut(key) {
                f.state = state;
            }
        };
        if save {
            self.edit(f)
        } else {
            self.touch(f)
        }
    }

    async fn upload_one(self, key: u32) {
        let mut attempt: u8 = 0;
        loop {
            let found = self.draft.with_untracked(|d| {
                d.evidence
                    .iter()
                    .find(|f| f.key == key)
                    .map(|f| (f.name.clone(), f.category))
            });
            let (Some((name, category)), Some(blob)) = (found, file(key)) else {
                return; // removed meanwhile
            };
            self.set_state(key, FileState::Uploading(0), false);
            if attempt == 0 {
                self.announce(format!("{name} 올리는 중 0%"));
            }
            let quarter = std::rc::Rc::new(Cell::new(0u8));
            let progress = {
                let name = name.clone();
                move |sent: f64, total: f64| {
                    if total <= 0.0 {
                        return;
                    }
                    // 100 % only once the server has stored it.
                    let pct = ((sent / total) * 100.0).clamp(0.0, 99.0) as u8;
                    self.set_state(key, FileState::Uploading(pct), false);
                    let q = pct / 25;
                    if q > quarter.get() && q < 4 {
                        quarter.set(q);
                        self.announce(format!("{name} 올리는 중 {}%", u32::from(q) * 25));
                    }
                }
            };
            match upload::upload(key, &blob, category_slug(category), progress).await {
                Ok(stored) => {
                    forget_file(key);
                    self.edit(|d| {
                        if let Some(f) = d.file_mut(key) {
                            f.upload_id = Some(stored.id);
                            f.state = FileState::Done;
                        }
                    });
                    self.announce(format!("{name} 올리기 100% 완료"));
                    return;
                }
                Err(UploadError::Aborted) => return,
                Err(UploadError::Refused { error, message }) => {
                    forget_file(key);
                    if let Some(ctx) = Self::ctx() {
                        ctx.handle(&error);
                    }
                    self.set_state(
                        key,
                        FileState::Failed {
                            message,
                            retry: false,
                        },
                        true,
                    );
                    self.announce(format!("{name} 파일을 올리지 못했어요."));
                    return;
                }
                Err(UploadError::Transient {
                    retry_after_s,
                    offline,
                }) => {
                    attempt += 1;
                    if attempt > UPLOAD_RETRIES {
                        self.set_state(
                            key,
                            FileState::Failed {
                                message:
                                    "연결이 불안정해 올리지 못했어요. 다시 올리기를 눌러 주세요."
                                        .to_string(),
                                retry: true,
                            },
                            true,
                        );
                        self.announce(format!("{name} 파일을 올리지 못했어요."));
                        return;
                    }
                    self.set_state(key, FileState::Waiting(attempt), false);
                    if offline {
                        wait_online(60_000).await;
                    } else {
                        let unit = js_sys::Math::random();
                        sleep(backoff_ms(
                            u32::from(attempt) + 1,
                            retry_after_s.map(|s| s.min(30)),
                            unit,
                        ))
                        .await;
                    }
                }
            }
        }
    }

    /// Back online: files that gave up on the network go again.
    fn requeue_failed(self) {
        let keys: Vec<u32> = self.draft.with_untracked(|d| {
            d.evidence
                .iter()
                .filter(|f| matches!(f.state, FileState::Failed { retry: true, .. }))
                .map(|f| f.key)
                .collect()
        });
        for key in keys {
            self.retry_file(key);
        }
    }

    // ---- submit ----

    /// 신청하기: every step checked again, then sent under the draft's key.
    pub fn submit(self) {
        if self.submit.get_untracked() == Submit::Sending {
            return;
        }
        if let Some((step, errors)) = self.draft.with_untracked(draft::first_invalid_step) {
            self.errors.set((step, errors));
            if step != Step::Check {
                go(&format!("{}?from=check", step.path()));
            }
            return;
        }
        self.clear_errors();
        self.edit(|d| {
            if d.key.is_empty() {
                d.key = new_idempotency_key();
            }
        });
        self.send(0, false);
    }

    /// Sends the queued claim, if there is one and nothing is in flight.
    pub fn flush(self) {
        let queued = self.draft.with_untracked(|d| d.queued && !d.key.is_empty());
        if queued && self.submit.get_untracked() != Submit::Sending {
            self.send(0, false);
        }
    }

    /// Sends the claim; `attempt` counts automatic resends, `rekeyed` whether
    /// the key was already replaced once in this chain.
    fn send(self, attempt: u32, rekeyed: bool) {
        self.submit.set(Submit::Sending);
        self.sending.dispatch_local((attempt, rekeyed));
    }

    async fn deliver(self, attempt: u32, rekeyed: bool) {
        let (request, key) = self.draft.with_untracked(|d| (d.request(), d.key.clone()));
        let result = api::business::damage_claim(&request, &key).await;
        let filed = self.draft.get_untracked();
        match result {
            Ok(receipt) => {
                draft::add_receipt(SavedReceipt::from_receipt(&receipt, &filed));
                draft::clear();
                FILES.with(|f| f.borrow_mut().clear());
                self.draft.set(Draft::fresh());
                self.clear_errors();
                self.submit.set(Submit::Idle);
                if let Some(ctx) = Self::ctx() {
                    ctx.announce(format!(
                        "신청이 접수됐어요. 접수번호 {}",
                        receipt.receipt_no
                    ));
                }
                if on_form() {
                    go("/business/done");
                }
            }
            Err(ApiError::Invalid(errors)) => {
                self.edit(|d| d.queued = false);
                self.submit.set(Submit::Idle);
                let (step, errors) = draft::server_errors(&errors);
                self.errors.set((step, errors));
                if step != Step::Check {
                    go(&format!("{}?from=check", step.path()));
                }
            }
            Err(ApiError::Conflict { receipt_no }) => {
                self.edit(|d| d.queued = false);
                self.submit.set(Submit::Conflict(receipt_no));
            }
            Err(ApiError::Rejected { code: c, .. })
                if c == code::IDEMPOTENCY_KEY_REUSED && !rekeyed =>
            {
                // The answers changed since the key was made: a new intent.
                // (If the first one was filed after all, the server says 409.)
                self.edit(|d| d.key = new_idempotency_key());
                self.send(attempt, true);
            }
            Err(e) if transient(&e) => {
                self.edit(|d| d.queued = true);
                self.submit.set(Submit::Queued);
                if let ApiError::Paused { .. } = e {
                    if let Some(ctx) = Self::ctx() {
                        ctx.handle(&e);
                    }
                }
                // Online (a 5xx, a time-out, busy): a few more tries with
                // backoff. Offline, or after those: the `online` event, the
                // next load, or 지금 다시 보내기 sends it.
                if crate::network::online() && attempt < SUBMIT_RETRIES {
                    let retry_after = e.retry_after_s().map(|s| s.min(60));
                    sleep(backoff_ms(attempt + 2, retry_after, js_sys::Math::random())).await;
                    if self.submit.get_untracked() == Submit::Queued {
                        self.send(attempt + 1, rekeyed);
                    }
                }
            }
            Err(e) => {
                // Signed out, not open, closed: the app changes screen; the
                // claim stays queued for when it can go.
                let global = Self::ctx().is_some_and(|ctx| ctx.handle(&e));
                self.edit(|d| d.queued = global);
                self.submit.set(if global {
                    Submit::Queued
                } else {
                    Submit::Failed(e)
                });
            }
        }
    }
}

/// Failures that say nothing about the claim itself: send it again later.
fn transient(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::Offline
            | ApiError::Timeout
            | ApiError::Server { .. }
            | ApiError::Busy { .. }
            | ApiError::Paused { .. }
    )
}

/// Resolves on the `online` event, or after `max_ms` at the latest.
pub async fn wait_online(max_ms: u32) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let either = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window.add_event_listener_with_callback("online", &resolve);
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            &resolve,
            max_ms.min(i32::MAX as u32) as i32,
        );
    });
    let _ = wasm_bindgen_futures::JsFuture::from(either).await;
}

/// Whether a step of the form shows (the submit then moves on to 완료).
fn on_form() -> bool {
    matches!(
        crate::route::Route::current(),
        crate::route::Route::Business(crate::route::BizView::Form(Some(_)))
    )
}

/// Client-side navigation within the app.
pub fn go(path: &str) {
    if let Some(ctx) = Biz::ctx() {
        ctx.navigate(path);
    }
}

/// Wires the journey into the app once: the `online` event sends a queued
/// claim and failed uploads again, and so does the campaign being open (a
/// claim queued before a reload goes out on the next load).
pub fn install(ctx: AppCtx) {
    CTX.with(|c| c.set(Some(ctx)));
    let biz = Biz::get();
    let _ = window_event_listener(leptos::ev::online, move |_| {
        biz.flush();
        biz.requeue_failed();
    });
    Effect::new(move |_| {
        if ctx.screen.get() == crate::state::Screen::Open {
            biz.flush();
        }
    });
}
