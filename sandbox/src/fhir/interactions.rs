//! One operation on the store: read, vread, search, history, create (plain and conditional),
//! update (plain, version-aware, as create) and delete — with MY Core validation and the
//! referential rule on every write.

use hie_vc::fhir::{self, IssueSeverity, Resource};
use serde_json::Value;

use super::routes::{pairs, Op};
use super::search::{self, MatchCtx};
use super::store::{Lookup, Store, Verb};
use super::{history, query, refs, Body, Ctx, Done};
use crate::error::{outcome, FhirError};

/// The version number in an `ETag` / `If-Match` value (`W/"3"`, `"3"` or `3`).
pub(crate) fn etag_version(value: &str) -> Option<u64> {
    let v = value.trim();
    let v = v.strip_prefix("W/").unwrap_or(v);
    v.trim_matches('"').parse().ok()
}

fn gone(rt: &str, id: &str) -> FhirError {
    FhirError::new(410, "deleted", format!("{rt}/{id} has been deleted"))
}

fn not_found(rt: &str, id: &str) -> FhirError {
    FhirError::new(404, "not-found", format!("{rt}/{id} is not known"))
}

pub(crate) fn match_ctx<'a>(ctx: &Ctx<'a>) -> MatchCtx<'a> {
    MatchCtx {
        local: ctx.settings.local,
        base: ctx.base,
    }
}

/// Runs one operation on `store`.
pub(crate) fn exec(store: &mut Store, ctx: &Ctx<'_>, op: Op) -> Result<Done, FhirError> {
    match op {
        Op::Read { rt, id } => match store.lookup(rt, &id) {
            Lookup::Missing => Err(not_found(rt, &id)),
            Lookup::Deleted => Err(gone(rt, &id)),
            Lookup::Live(v) => Ok(Done::read(v)),
        },
        Op::VRead { rt, id, vid } => {
            let versions = store.versions(rt, &id).ok_or_else(|| not_found(rt, &id))?;
            let v = versions
                .iter()
                .find(|v| v.vid.to_string() == vid)
                .ok_or_else(|| {
                    FhirError::new(404, "not-found", format!("{rt}/{id} has no version {vid}"))
                })?;
            if v.is_deleted() {
                return Err(FhirError::new(
                    410,
                    "deleted",
                    format!("version {vid} of {rt}/{id} is its deletion"),
                ));
            }
            Ok(Done::read(v))
        }
        Op::Search { rt, pairs } => {
            let q = query::parse(rt, &pairs, ctx.settings.paging, ctx.lenient)?;
            let found = search::run(store, rt, &q, &match_ctx(ctx));
            Ok(Done::resource(
                200,
                search::searchset(ctx.base, rt, &q, &found),
            ))
        }
        Op::History { rt, id, pairs } => history::history(store, ctx, rt, id.as_deref(), &pairs),
        Op::Create {
            rt,
            resource,
            id,
            if_none_exist,
        } => {
            if let Some(criteria) = if_none_exist {
                if let Some(existing) = conditional_match(store, ctx, rt, &criteria)? {
                    return Ok(existing);
                }
            }
            check_write(store, ctx, rt, &resource)?;
            let id = id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let v = store.write(rt, &id, Some(resource), Verb::Create);
            Ok(written(201, v))
        }
        Op::Update {
            rt,
            id,
            resource,
            if_match,
        } => {
            match resource.id() {
                Some(body_id) if body_id == id => {}
                Some(body_id) => {
                    return Err(FhirError::new(
                        400,
                        "invalid",
                        format!("the body's id '{body_id}' differs from the URL's id '{id}'"),
                    )
                    .at(format!("{rt}.id")))
                }
                None => {
                    return Err(FhirError::new(
                        400,
                        "required",
                        format!("an update needs the resource id in the body (equal to '{id}')"),
                    )
                    .at(format!("{rt}.id")))
                }
            }
            let exists = matches!(store.lookup(rt, &id), Lookup::Live(_));
            if let Some(m) = if_match {
                check_if_match(store, rt, &id, &m)?;
            }
            check_write(store, ctx, rt, &resource)?;
            let v = store.write(rt, &id, Some(resource), Verb::Update);
            Ok(written(if exists { 200 } else { 201 }, v))
        }
        Op::Delete { rt, id, if_match } => {
            if !ctx.settings.allow_delete {
                return Err(FhirError::new(
                    403,
                    "forbidden",
                    "delete is disabled for source systems (HIE enables it case by case)",
                ));
            }
            if let Some(m) = if_match {
                check_if_match(store, rt, &id, &m)?;
            }
            match store.lookup(rt, &id) {
                Lookup::Missing | Lookup::Deleted => Ok(Done {
                    status: 204,
                    body: Body::Empty,
                    version: None,
                    write: false,
                }),
                Lookup::Live(_) => {
                    let v = store.write(rt, &id, None, Verb::Delete);
                    let oo = outcome(
                        IssueSeverity::Information,
                        "informational",
                        format!("{rt}/{id} deleted (version {})", v.vid),
                    );
                    Ok(Done {
                        status: 200,
                        body: Body::Resource(oo.into()),
                        version: Some(v),
                        write: false,
                    })
                }
            }
        }
    }
}

fn written(status: u16, v: super::store::Version) -> Done {
    Done {
        status,
        body: v.body.clone().map_or(Body::Empty, Body::Stored),
        version: Some(v),
        write: true,
    }
}

fn check_if_match(store: &Store, rt: &str, id: &str, if_match: &str) -> Result<(), FhirError> {
    let want = etag_version(if_match).ok_or_else(|| {
        FhirError::new(
            400,
            "invalid",
            format!("If-Match '{if_match}' is not a version ETag (W/\"<version>\")"),
        )
    })?;
    match store.lookup(rt, id) {
        Lookup::Live(v) if v.vid == want => Ok(()),
        Lookup::Live(v) => Err(FhirError::new(
            412,
            "conflict",
            format!(
                "version conflict: If-Match names version {want} of {rt}/{id} but the current version is {}",
                v.vid
            ),
        )),
        Lookup::Deleted => Err(FhirError::new(
            412,
            "conflict",
            format!("If-Match names version {want} of {rt}/{id}, which has been deleted"),
        )),
        Lookup::Missing => Err(FhirError::new(
            412,
            "conflict",
            format!("If-Match names version {want} of {rt}/{id}, which does not exist"),
        )),
    }
}

/// The match of a conditional create, if any (`None`: create).
fn conditional_match(
    store: &Store,
    ctx: &Ctx<'_>,
    rt: &'static str,
    criteria: &str,
) -> Result<Option<Done>, FhirError> {
    let criteria = criteria.trim_start_matches(rt).trim_start_matches('?');
    let pairs = pairs(Some(criteria));
    if pairs.is_empty() {
        return Err(FhirError::new(
            400,
            "invalid",
            "If-None-Exist has no search parameters",
        ));
    }
    let q = query::parse(rt, &pairs, ctx.settings.paging, false)?;
    let found = search::run(store, rt, &q, &match_ctx(ctx));
    match found.total {
        0 => Ok(None),
        1 => {
            // Paging cannot hide the single match: offset is 0 unless the criteria set one.
            let v = search::run(
                store,
                rt,
                &query::Query {
                    offset: 0,
                    count: 1,
                    ..q
                },
                &match_ctx(ctx),
            )
            .page
            .into_iter()
            .next()
            .ok_or_else(|| FhirError::new(500, "exception", "conditional match vanished"))?;
            Ok(Some(Done::read(v)))
        }
        n => Err(FhirError::new(
            412,
            "duplicate",
            format!("If-None-Exist matches {n} {rt} resources; it must match at most one"),
        )),
    }
}

/// The checks of a write: type, MY Core validation (422), references (422).
pub(crate) fn check_write(
    store: &Store,
    ctx: &Ctx<'_>,
    rt: &str,
    resource: &Resource,
) -> Result<(), FhirError> {
    if resource.resource_type() != rt {
        return Err(FhirError::new(
            400,
            "invalid",
            format!(
                "the body is a {} but the URL names {rt}",
                resource.resource_type()
            ),
        )
        .at("resourceType"));
    }
    if let Some(v) = &ctx.settings.validator {
        let report = v.validate(resource);
        if report.has_errors() {
            return Err(FhirError::with_outcome(422, report.to_operation_outcome()));
        }
    }
    if ctx.settings.check_references && !ctx.defer_references {
        let json: Value = serde_json::from_str(&fhir::to_json(resource)).unwrap_or(Value::Null);
        let d = refs::dangling(store, rt, &json, ctx.base);
        if !d.is_empty() {
            return Err(refs::dangling_error(&d));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_parse() {
        assert_eq!(etag_version("W/\"3\""), Some(3));
        assert_eq!(etag_version("\"12\""), Some(12));
        assert_eq!(etag_version("7"), Some(7));
        assert_eq!(etag_version("W/\"x\""), None);
    }
}
