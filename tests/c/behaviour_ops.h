/* The behaviour spec's operations on the C ABI: read, round_trip, validate, vc_view (on
 * documents) and listen (an in-memory broker and a listener); client / vc scenarios are in
 * behaviour_scenario.h. Each returns the result document, or NULL with the runner error. */
#ifndef HIEVC_BEHAVIOUR_OPS_H
#define HIEVC_BEHAVIOUR_OPS_H

#include <pthread.h>
#include <time.h>

#include <hie_vc.h>

#include "behaviour_spec.h"

/* Whether the ABI refused the call itself (NULL, UTF-8, JSON, options, panic, state: 1-99),
 * as opposed to the SDK failing (100-199): the first is the runner's fault. */
static int abi_refused(hievc_status st) { return st != HIEVC_OK && (int)st < 100; }

static cJSON *wrap(const char *key, cJSON *value) {
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, key, value);
    return doc;
}

/* An error's message for a runner error (the error may be missing). */
static const char *why(const hievc_error *err) {
    const char *m = err ? hievc_error_message(err) : NULL;
    return m ? m : "(no error detail)";
}

/* The ErrorInfo of an SDK failure, or NULL (runner error) when the ABI refused the call. */
static cJSON *error_info(Ctx *c, const char *what, hievc_status st, const hievc_error *err) {
    if (abi_refused(st)) return fail(c, "%s: %s: %s", what, hievc_status_name(st), why(err));
    const char *j = hievc_error_json(err);
    cJSON *v = j ? cJSON_Parse(j) : NULL;
    return v ? v : fail(c, "%s failed (%s) without an error JSON", what, hievc_status_name(st));
}

/* Frees a call's outputs and sets them back to NULL. */
static void release(char **out, hievc_error **err) {
    hievc_string_free(*out);
    hievc_error_free(*err);
    *out = NULL;
    *err = NULL;
}

/* A call that returns a JSON document: {"result": doc} on success, {"error": ErrorInfo} when
 * the SDK failed; NULL (runner error) when the ABI refused the call. Takes the call's outputs
 * by address (read after the call, whatever the argument order) and releases them. */
static cJSON *outcome(Ctx *c, const char *what, hievc_status st, char **out, hievc_error **err) {
    cJSON *doc = NULL;
    if (st == HIEVC_OK) {
        cJSON *v = *out ? cJSON_Parse(*out) : NULL;
        doc = v ? wrap("result", v) : fail(c, "%s: the result is not JSON", what);
    } else {
        cJSON *info = error_info(c, what, st, *err);
        doc = info ? wrap("error", info) : NULL;
    }
    release(out, err);
    return doc;
}

/* A call that must succeed: its JSON document parsed, else NULL (runner error). Releases the
 * outputs as `outcome`. */
static cJSON *must(Ctx *c, const char *what, hievc_status st, char **out, hievc_error **err) {
    cJSON *v = NULL;
    if (st != HIEVC_OK)
        fail(c, "%s: %s: %s", what, hievc_status_name(st), why(*err));
    else if ((v = cJSON_Parse(*out ? *out : "")) == NULL)
        fail(c, "%s: the result is not JSON", what);
    release(out, err);
    return v;
}

/* The options of a document argument (hievc_validator_validate_bytes, hievc_fhir_vc_view). */
static void document_options(char *buf, size_t size, int lenient, int deny_unknown) {
    snprintf(buf, size, "{\"mode\":\"%s\",\"deny_unknown\":%s}", lenient ? "lenient" : "strict",
             deny_unknown ? "true" : "false");
}

/* The read options of hievc_fhir_read_bytes: a document's, and whether only the resource is
 * wanted (as the SDK writes it). */
static void read_options(char *buf, size_t size, int lenient, int deny_unknown, int resource_only) {
    document_options(buf, size, lenient, deny_unknown);
    size_t used = strlen(buf);
    snprintf(buf + used - 1, size - used + 1, ",\"resource_only\":%s}", resource_only ? "true" : "false");
}

/* The input of the document operations: checks its keys, reads `document`, the read mode
 * (member `mode_key`) and `deny_unknown`. */
static int document_input(Ctx *c, const cJSON *in, const char *const *keys, const char *mode_key, int *lenient,
                          int *deny, Bytes *doc) {
    if (!check_keys(c, in, "input", keys)) return 0;
    *lenient = read_mode(c, in, mode_key);
    if (*lenient < 0 || !opt_bool(c, in, "deny_unknown", 0, deny)) return 0;
    return document(c, member(in, "document"), "document", doc);
}

/* A document read as the SDK reads it in every language (bytes in, the core's errors out). */
static hievc_status read_bytes(const Bytes *doc, int lenient, int deny, int resource_only, char **out,
                               hievc_error **err) {
    char opts[128];
    read_options(opts, sizeof opts, lenient, deny, resource_only);
    return hievc_fhir_read_bytes(doc->data, doc->len, opts, out, err);
}

static cJSON *op_read(Ctx *c, const cJSON *in) {
    static const char *const keys[] = {"document", "mode", "deny_unknown", NULL};
    int lenient, deny;
    Bytes doc;
    if (!document_input(c, in, keys, "mode", &lenient, &deny, &doc)) return NULL;
    char *out = NULL;
    hievc_error *err = NULL;
    hievc_status st = read_bytes(&doc, lenient, deny, 0, &out, &err);
    bytes_free(&doc);
    return outcome(c, "hievc_fhir_read_bytes", st, &out, &err);
}

/* Read, write (the resource as the SDK writes it), read the written text strictly, write
 * again. */
static cJSON *op_round_trip(Ctx *c, const cJSON *in) {
    static const char *const keys[] = {"document", "mode", "deny_unknown", NULL};
    int lenient, deny;
    Bytes doc;
    if (!document_input(c, in, keys, "mode", &lenient, &deny, &doc)) return NULL;
    char *out = NULL, *written = NULL, *rewritten = NULL;
    hievc_error *err = NULL;
    cJSON *doc_out = NULL, *first = NULL, *again = NULL, *input = NULL;
    hievc_status st = read_bytes(&doc, lenient, deny, 0, &out, &err);
    if (st != HIEVC_OK) {
        doc_out = outcome(c, "hievc_fhir_read_bytes", st, &out, &err);
        goto done;
    }
    first = must(c, "first read", st, &out, &err);
    if (!first || read_bytes(&doc, lenient, deny, 1, &written, &err) != HIEVC_OK) {
        fail(c, "writing the read resource: %s", why(err));
        goto done;
    }
    Bytes w = {(unsigned char *)written, strlen(written)};
    out = NULL;
    st = read_bytes(&w, 0, 0, 0, &out, &err);
    if (st != HIEVC_OK) {
        cJSON *info = error_info(c, "strict re-read", st, err);
        doc_out = info ? wrap("rereadError", info) : NULL;
        hievc_string_free(out);
        goto done;
    }
    again = must(c, "strict re-read", st, &out, &err);
    if (!again || read_bytes(&w, 0, 0, 1, &rewritten, &err) != HIEVC_OK) {
        fail(c, "writing the re-read resource: %s", why(err));
        goto done;
    }
    input = cJSON_ParseWithLength((const char *)doc.data, doc.len);
    cJSON *written_json = cJSON_Parse(written);
    if (!input || !written_json) {
        cJSON_Delete(written_json);
        fail(c, "round trip: the %s is not JSON for this runner's parser", input ? "written text" : "input");
        goto done;
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "warnings", cJSON_DetachItemFromObjectCaseSensitive(first, "warnings"));
    cJSON_AddBoolToObject(r, "sameAsInput", same_value(written_json, input));
    cJSON_AddItemToObject(r, "written", written_json);
    cJSON_AddStringToObject(r, "writtenText", written);
    cJSON_AddBoolToObject(r, "stable", strcmp(written, rewritten) == 0);
    cJSON_AddItemToObject(r, "rereadWarnings", cJSON_DetachItemFromObjectCaseSensitive(again, "warnings"));
    doc_out = wrap("result", r);
done:
    hievc_error_free(err);
    hievc_string_free(written);
    hievc_string_free(rewritten);
    cJSON_Delete(first);
    cJSON_Delete(again);
    cJSON_Delete(input);
    bytes_free(&doc);
    return doc_out;
}

static cJSON *op_validate(Ctx *c, const cJSON *in) {
    static const char *const keys[] = {"document", "read", "deny_unknown", "accept_published_quirks", NULL};
    int lenient, deny, quirks;
    Bytes doc;
    if (!opt_bool(c, in, "accept_published_quirks", 0, &quirks) ||
        !document_input(c, in, keys, "read", &lenient, &deny, &doc))
        return NULL;
    hievc_validator *v = NULL;
    hievc_error *err = NULL;
    char opts[128];
    snprintf(opts, sizeof opts, "{\"accept_published_quirks\":%s}", quirks ? "true" : "false");
    if (hievc_validator_new(NULL, opts, &v, &err) != HIEVC_OK) {
        fail(c, "hievc_validator_new: %s", why(err));
        hievc_error_free(err);
        bytes_free(&doc);
        return NULL;
    }
    /* The read options of a document argument: mode and deny_unknown. */
    document_options(opts, sizeof opts, lenient, deny);
    char *out = NULL;
    hievc_status st = hievc_validator_validate_bytes(v, doc.data, doc.len, opts, &out, &err);
    hievc_validator_free(v);
    bytes_free(&doc);
    return outcome(c, "hievc_validator_validate_bytes", st, &out, &err);
}

static cJSON *op_vc_view(Ctx *c, const cJSON *in) {
    static const char *const keys[] = {"document", "read", "deny_unknown", NULL};
    int lenient, deny;
    Bytes doc;
    if (!document_input(c, in, keys, "read", &lenient, &deny, &doc)) return NULL;
    char *out = NULL;
    hievc_error *err = NULL;
    /* The case's document must be an Encounter: another resource is a mistake of the case. */
    if (read_bytes(&doc, lenient, deny, 0, &out, &err) == HIEVC_OK) {
        cJSON *r = cJSON_Parse(out);
        const cJSON *t = member(r, "resourceType");
        if (!cJSON_IsString(t) || strcmp(t->valuestring, "Encounter") != 0)
            fail(c, "vc_view takes an Encounter, the document is a %s", cJSON_IsString(t) ? t->valuestring : "?");
        cJSON_Delete(r);
    }
    hievc_string_free(out);
    hievc_error_free(err);
    out = NULL;
    err = NULL;
    if (failed(c)) {
        bytes_free(&doc);
        return NULL;
    }
    char opts[96];
    document_options(opts, sizeof opts, lenient, deny);
    hievc_status st = hievc_fhir_vc_view(doc.data, doc.len, opts, &out, &err);
    bytes_free(&doc);
    return outcome(c, "hievc_fhir_vc_view", st, &out, &err);
}

/* ---- listen ---- */

/* The topic records are produced on (partition 0, so they keep their order). */
#define LISTEN_TOPIC "vc-encounters"
/* How long the listener gets to finish every record. */
#define LISTEN_WAIT_MS 10000

/* What the callbacks saw (they run on the listener's thread). */
typedef struct {
    pthread_mutex_t lock;
    cJSON *events;
    cJSON *failures;
    int handler_fails;
    int unreadable; /* an event or failure whose JSON did not parse */
} Seen;

static int on_event(void *userdata, const hievc_encounter_event *ev) {
    Seen *s = userdata;
    const char *j = hievc_event_json(ev);
    cJSON *v = j ? cJSON_Parse(j) : NULL;
    pthread_mutex_lock(&s->lock);
    if (v)
        cJSON_AddItemToArray(s->events, v);
    else
        s->unreadable++;
    int fails = s->handler_fails;
    pthread_mutex_unlock(&s->lock);
    return fails ? 1 : 0;
}

static void on_failure(void *userdata, const char *failure_json) {
    Seen *s = userdata;
    cJSON *v = failure_json ? cJSON_Parse(failure_json) : NULL;
    pthread_mutex_lock(&s->lock);
    if (v)
        cJSON_AddItemToArray(s->failures, v);
    else
        s->unreadable++;
    pthread_mutex_unlock(&s->lock);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double metric(const cJSON *m, const char *name) {
    const cJSON *v = member(m, name);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Sends the case's records, in order, to partition 0 of the topic. */
static int send_records(Ctx *c, hievc_memory_broker *broker, const cJSON *records) {
    static const char *const keys[] = {"example", "json", "text", "base64", "patch", "key", "headers", "tombstone", NULL};
    int i = 0;
    for (const cJSON *r = records->child; r; r = r->next, i++) {
        char what[32];
        snprintf(what, sizeof what, "records[%d]", i);
        int tombstone;
        const char *key = NULL;
        if (!check_keys(c, r, what, keys) || !opt_bool(c, r, "tombstone", 0, &tombstone) ||
            !opt_string(c, r, "key", &key))
            return 0;
        /* headers [[name, value], ...] as the ABI takes them: [{"key", "value"}]. */
        const cJSON *hs = member(r, "headers");
        if (hs && !cJSON_IsArray(hs)) return !!fail(c, "%s: headers is a list of [name, value]", what);
        cJSON *headers = cJSON_CreateArray();
        for (const cJSON *h = hs ? hs->child : NULL; h; h = h->next) {
            const cJSON *k = cJSON_GetArrayItem(h, 0), *v = cJSON_GetArrayItem(h, 1);
            if (cJSON_GetArraySize(h) != 2 || !cJSON_IsString(k) || !cJSON_IsString(v)) {
                cJSON_Delete(headers);
                return !!fail(c, "%s: a header is [name, value], both strings", what);
            }
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "key", k->valuestring);
            cJSON_AddStringToObject(o, "value", v->valuestring);
            cJSON_AddItemToArray(headers, o);
        }
        Bytes payload = {NULL, 0};
        int has_document = 0;
        for (const char *const *k = DOCUMENT_KEYS; *k; k++) has_document |= member(r, *k) != NULL;
        if (tombstone && has_document) fail(c, "%s: a tombstone has no document", what);
        if (!failed(c) && !tombstone) document(c, r, what, &payload);
        char *headers_json = cJSON_PrintUnformatted(headers);
        cJSON_Delete(headers);
        hievc_error *err = NULL;
        if (!failed(c)) {
            /* A tombstone is a NULL payload; an empty document a non-NULL one of 0 bytes. */
            static const unsigned char empty[1] = {0};
            const unsigned char *data = tombstone ? NULL : payload.data ? payload.data : empty;
            hievc_status st = hievc_memory_broker_send_record(broker, LISTEN_TOPIC, data, payload.len, key,
                                                               headers_json, 0, NULL, &err);
            if (st != HIEVC_OK) fail(c, "%s: hievc_memory_broker_send_record: %s", what, why(err));
        }
        hievc_error_free(err);
        cJSON_free(headers_json);
        bytes_free(&payload);
        if (failed(c)) return 0;
    }
    return 1;
}

/* A dead-letter record as the spec shows it: key and payload as text, headers as an object
 * of their first values. */
static cJSON *dead_letter(const cJSON *rec) {
    cJSON *d = cJSON_CreateObject();
    cJSON_AddItemToObject(d, "key", cJSON_Duplicate(member(rec, "key"), 1));
    cJSON_AddItemToObject(d, "payload", cJSON_Duplicate(member(rec, "payload"), 1));
    cJSON *headers = cJSON_AddObjectToObject(d, "headers");
    const cJSON *hs = member(rec, "headers");
    for (const cJSON *h = hs ? hs->child : NULL; h; h = h->next) {
        const cJSON *k = member(h, "key");
        if (cJSON_IsString(k) && !member(headers, k->valuestring))
            cJSON_AddItemToObject(headers, k->valuestring, cJSON_Duplicate(member(h, "value"), 1));
    }
    return d;
}

/* Waits until every record is processed and every failure reached the error callback. */
static cJSON *wait_processed(Ctx *c, hievc_listener *l, Seen *seen, int n) {
    long long deadline = now_ms() + LISTEN_WAIT_MS;
    for (;;) {
        char *out = NULL;
        hievc_error *err = NULL;
        cJSON *m = must(c, "hievc_listener_metrics", hievc_listener_metrics(l, &out, &err), &out, &err);
        if (!m) return NULL;
        pthread_mutex_lock(&seen->lock);
        int reported = cJSON_GetArraySize(seen->failures);
        pthread_mutex_unlock(&seen->lock);
        if (metric(m, "processed") >= n && reported >= metric(m, "decodeErrors") + metric(m, "handlerFailures"))
            return m;
        if (now_ms() >= deadline) {
            char *s = cJSON_PrintUnformatted(m);
            fail(c, "the listener did not finish %d records within %d ms (%d failures reported, %d unreadable): %s", n,
                 LISTEN_WAIT_MS, reported, seen->unreadable, s ? s : "?");
            cJSON_free(s);
            cJSON_Delete(m);
            return NULL;
        }
        cJSON_Delete(m);
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static cJSON *op_listen(Ctx *c, const cJSON *in) {
    static const char *const keys[] = {"options", "handler", "records", NULL};
    static const char *const option_keys[] = {"format",  "filter", "read_mode", "max_message_bytes", "max_retries",
                                              "initial_backoff_ms", "dead_letter_topic", "dedupe", NULL};
    const char *handler = NULL, *dlt = NULL;
    const cJSON *options = member(in, "options"), *records = member(in, "records");
    if (!check_keys(c, in, "input", keys) || !check_keys(c, options, "options", option_keys) ||
        !opt_string(c, in, "handler", &handler) || !opt_string(c, options, "dead_letter_topic", &dlt))
        return NULL;
    if (handler && strcmp(handler, "ok") != 0 && strcmp(handler, "fail") != 0)
        return fail(c, "handler is \"ok\" or \"fail\", not \"%s\"", handler);
    if (!cJSON_IsArray(records)) return fail(c, "records is a list");

    hievc_memory_broker *broker = NULL;
    hievc_config *cfg = NULL;
    hievc_listener *l = NULL;
    hievc_error *err = NULL;
    cJSON *metrics = NULL, *result = NULL;
    Seen seen = {PTHREAD_MUTEX_INITIALIZER, cJSON_CreateArray(), cJSON_CreateArray(), handler && handler[0] == 'f', 0};
    /* The case's options are the ABI's listener options; metrics logging off, as the other
     * runners. */
    cJSON *opts = options ? cJSON_Duplicate(options, 1) : cJSON_CreateObject();
    cJSON_AddNumberToObject(opts, "metrics_interval_ms", 0);
    char *opts_json = cJSON_PrintUnformatted(opts);
    cJSON_Delete(opts);
    if (hievc_memory_broker_new(&broker, &err) != HIEVC_OK || hievc_config_new(&cfg, &err) != HIEVC_OK ||
        hievc_config_set(cfg, "kafka.topics", LISTEN_TOPIC, &err) != HIEVC_OK ||
        hievc_config_set(cfg, "kafka.group", "behaviour", &err) != HIEVC_OK) {
        fail(c, "broker / config: %s", why(err));
        goto done;
    }
    if (!send_records(c, broker, records)) goto done;
    if (hievc_listener_new_memory(cfg, broker, opts_json, &l, &err) != HIEVC_OK ||
        hievc_listener_set_error_callback(l, on_failure, &seen, &err) != HIEVC_OK ||
        hievc_listener_start(l, on_event, &seen, &err) != HIEVC_OK) {
        fail(c, "listener: %s", why(err));
        goto done;
    }
    cJSON *waited = wait_processed(c, l, &seen, cJSON_GetArraySize(records));
    cJSON_Delete(waited);
    if (hievc_listener_close(l, &err) != HIEVC_OK) fail(c, "hievc_listener_close: %s", why(err));
    char *out = NULL;
    hievc_error_free(err);
    err = NULL;
    metrics = must(c, "hievc_listener_metrics", hievc_listener_metrics(l, &out, &err), &out, &err);
    err = NULL;
    if (failed(c)) goto done;
    if (seen.unreadable) {
        fail(c, "%d event or failure JSON documents did not parse", seen.unreadable);
        goto done;
    }
    cJSON *dead = cJSON_CreateArray();
    if (dlt) {
        out = NULL;
        cJSON *recs = must(c, "hievc_memory_broker_records", hievc_memory_broker_records(broker, dlt, &out, &err), &out, &err);
        err = NULL;
        for (const cJSON *r = recs ? recs->child : NULL; r; r = r->next) cJSON_AddItemToArray(dead, dead_letter(r));
        cJSON_Delete(recs);
    }
    result = cJSON_CreateObject();
    cJSON_AddItemToObject(result, "events", seen.events);
    cJSON_AddItemToObject(result, "failures", seen.failures);
    cJSON_AddItemToObject(result, "deadLetters", dead);
    cJSON_AddItemToObject(result, "metrics", metrics);
    seen.events = seen.failures = metrics = NULL;
    if (failed(c)) {
        cJSON_Delete(result);
        result = NULL;
    }
done:
    hievc_error_free(err);
    hievc_listener_free(l);
    hievc_config_free(cfg);
    hievc_memory_broker_free(broker);
    cJSON_free(opts_json);
    cJSON_Delete(metrics);
    cJSON_Delete(seen.events);
    cJSON_Delete(seen.failures);
    pthread_mutex_destroy(&seen.lock);
    return result;
}

#include "behaviour_scenario.h"

#endif
