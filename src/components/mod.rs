//! Reusable, presentational pieces. They take data as props and never talk to
//! the network, so the browser tests mount them without a server.

mod buttons;
pub mod erased;
pub mod error_summary;
pub mod field;
pub mod file_drop;
mod gift_box;
mod item_card;
mod notices;

pub use buttons::RetryButton;
pub use gift_box::{GiftBox, Held};
pub use item_card::ItemCard;
pub use notices::{caught, note, waiting, ErrorNotice, Loading, NetNotice};
