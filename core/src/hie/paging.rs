//! Following `next` links: the machinery shared by search and history.
//!
//! Each page is one GET; the next link the server hands out is rebased onto the configured
//! origin (see `Transport::rebase`) so that paging never sends credentials elsewhere.

use futures::stream::{self, Stream};
use reqwest::Method;

use super::client::HieClient;
use super::transport::{Call, CallOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::fhir::{Bundle, ReadWarning};

/// A page decoded from a Bundle.
pub(crate) trait Page: Sized + Send + 'static {
    /// Builds the page from the Bundle the server answered.
    fn from_bundle(bundle: Bundle, warnings: Vec<ReadWarning>, request_id: String) -> Result<Self>;
    /// The server's `next` link.
    fn next_link(&self) -> Option<&str>;
    /// How many primary items the page holds (matches, history entries), for caps.
    fn items(&self) -> usize;
}

/// Runs one page request and decodes the Bundle.
pub(crate) async fn fetch<P: Page>(client: &HieClient, call: Call) -> Result<P> {
    let what = call.what();
    let reply = client.execute(call).await?;
    let read = client.decode::<Bundle>(&reply, || what)?;
    P::from_bundle(read.value, read.warnings, reply.request_id)
}

/// The GET of a `next` link.
pub(crate) fn next_call(
    client: &HieClient,
    link: &str,
    interaction: &'static str,
    target: &str,
    opts: CallOptions,
) -> Result<Call> {
    let url = client.inner.transport.rebase(link)?;
    Ok(Call {
        method: Method::GET,
        url,
        body: None,
        headers: reqwest::header::HeaderMap::new(),
        idempotent: true,
        interaction,
        target: target.to_owned(),
        opts,
    })
}

enum State {
    First(Box<Result<Call>>),
    Next(String),
    Done,
}

/// The pages of a search or history, first to last (or until `max_items` primary items were
/// delivered, or `max_pages` pages).
pub(crate) fn pages<P: Page>(
    client: HieClient,
    first: Result<Call>,
    target: String,
    opts: CallOptions,
    max_items: Option<usize>,
    max_pages: Option<usize>,
) -> impl Stream<Item = Result<P>> + Send + 'static {
    let init = (
        State::First(Box::new(first)),
        0usize,
        0usize,
        Vec::<String>::new(),
    );
    stream::unfold(init, move |(state, items, npages, mut seen)| {
        let client = client.clone();
        let opts = opts.clone();
        let target = target.clone();
        async move {
            let done =
                max_items.is_some_and(|m| items >= m) || max_pages.is_some_and(|m| npages >= m);
            let call = match state {
                State::Done => return None,
                _ if done => return None,
                State::First(call) => *call,
                State::Next(link) => {
                    // A server that hands out a link already followed would loop forever.
                    if seen.contains(&link) {
                        let e = Error::new(
                            ErrorKind::Decode,
                            "the server's next link points to a page already read; paging stopped",
                        )
                        .with_location("Bundle.link.url");
                        return Some((Err(e), (State::Done, items, npages, seen)));
                    }
                    let call = next_call(&client, &link, "page", &target, opts);
                    seen.push(link);
                    call
                }
            };
            let page = match call {
                Ok(call) => fetch::<P>(&client, call).await,
                Err(e) => Err(e),
            };
            match page {
                // Cursor-paging servers may hand out a `next` link on the last full page that
                // leads to an empty one: an empty page after the first ends the paging unseen
                // (it also stops a server that would keep linking to empty pages).
                Ok(p) if p.items() == 0 && npages > 0 => None,
                Ok(p) => {
                    let next = match p.next_link() {
                        Some(l) => State::Next(l.to_owned()),
                        None => State::Done,
                    };
                    let items = items + p.items();
                    Some((Ok(p), (next, items, npages + 1, seen)))
                }
                Err(e) => Some((Err(e), (State::Done, items, npages, seen))),
            }
        }
    })
}
