/* libhievc C suite, part 3: the HIE FHIR client — every interaction against a real FHIR R4
 * server (HIEVC_FHIR_URL: tests/ffi.sh starts a Helios server; skipped with a notice when
 * unset: a failure, never a skip), typed errors with HTTP status / OperationOutcome / request id, client-side MY Core
 * validation, per-call options, transport errors and misuse. */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static hievc_error *E = NULL;
static char uniq[32];

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static char *fmt(const char *f, ...) {
    static char bufs[8][4096];
    static int i = 0;
    char *b = bufs[i++ % 8];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof bufs[0], f, ap);
    va_end(ap);
    return b;
}

static const char *patient(const char *id, const char *family) {
    return fmt("{\"resourceType\":\"Patient\",\"id\":\"%s\",\"identifier\":[{\"system\":\"http://fhir.hie.moh.gov.my/sid/patient-mrn\","
               "\"value\":\"%s\"}],\"name\":[{\"family\":\"%s\"}],\"gender\":\"female\",\"birthDate\":\"1990-01-01\"}",
               id, id, family);
}

static void test_misuse_offline(void) {
    SECTION("client misuse (no server needed)");
    hievc_config *cfg = NULL;
    hievc_client *c = NULL;
    EXPECT(HIEVC_OK, hievc_config_from_json("{\"hie\":{\"url\":\"http://127.0.0.1:9/fhir\"}}", &cfg, &E));
    EXPECT(HIEVC_OK, hievc_client_new(cfg, &c, &E));
    char *out = NULL;
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_client_read(NULL, "Patient", "p", NULL, &out, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_client_read(c, NULL, "p", NULL, &out, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_client_read(c, "Patient", NULL, NULL, &out, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_client_read(c, "Patient", "p", NULL, NULL, &E));
    EXPECT(HIEVC_INVALID_UTF8, hievc_client_read(c, "Patient", "p\xe9", NULL, &out, &E));
    EXPECT(HIEVC_INVALID_INPUT, hievc_client_read(c, "Patient", "../etc", NULL, &out, &E));
    EXPECT(HIEVC_INVALID_INPUT, hievc_client_read(c, "patient", "p", NULL, &out, &E));
    EXPECT(HIEVC_INVALID_JSON, hievc_client_read(c, "Patient", "p", "{oops", &out, &E));
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_client_read(c, "Patient", "p", "{\"timeout\":5}", &out, &E));
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_client_read(c, "Patient", "p", "{\"headers\":{\"bad header\":\"x\"}}", &out, &E));
    EXPECT(HIEVC_INVALID_JSON, hievc_client_update(c, "{\"resourceType\":\"Patient\"", NULL, &out, &E));
    EXPECT(HIEVC_DECODE, hievc_client_update(c, "{\"resourceType\":\"Patient\",\"gender\":5}", NULL, &out, &E));
    EXPECT(HIEVC_INVALID_INPUT, hievc_client_update(c, "{\"resourceType\":\"Patient\"}", NULL, &out, &E)); /* no id */
    EXPECT(HIEVC_INVALID_INPUT, hievc_client_bundle(c, "{\"resourceType\":\"Patient\",\"id\":\"p\"}", NULL, &out, &E));
    EXPECT(HIEVC_INVALID_INPUT, hievc_client_bundle(c, "{\"resourceType\":\"Bundle\",\"type\":\"collection\"}", NULL, &out, &E));
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_client_bundle(c, "{\"resourceType\":\"Bundle\",\"type\":\"batch\"}", "{\"method\":\"P UT\"}", &out, &E));
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_client_history(c, NULL, "p1", NULL, &out, &E));
    EXPECT(HIEVC_INVALID_INPUT, hievc_client_history(c, "observation", NULL, NULL, &out, &E)); /* not a type name */
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_client_create(c, patient("p", "X"), "{\"prefer\":\"everything\"}", &out, &E));
    CHECK(out == NULL);

    /* Invalid MY Core VC resources are refused before anything is sent, with the report. */
    char *bad = data_file("vc_encounter_invalid.json");
    EXPECT_KEEP(HIEVC_VALIDATION, hievc_client_update(c, bad, NULL, &out, &E));
    CHECK(CONTAINS(hievc_error_report(E), "vc-token-required"));
    CHECK(CONTAINS(hievc_error_json(E), "\"report\":{"));
    CHECK(hievc_error_http_status(E) == 0);
    hievc_error_free(E);
    E = NULL;
    free(bad);

    /* Nothing listens on port 9: a transport error, retryable, carrying our request id. */
    EXPECT_KEEP(HIEVC_TRANSPORT, hievc_client_read(c, "Patient", "p1", "{\"max_retries\":0,\"request_id\":\"req-c-suite\",\"timeout_ms\":2000}", &out, &E));
    CHECK(hievc_error_is_retryable(E));
    CHECK(strcmp(hievc_error_kind(E), "transport") == 0);
    hievc_error_free(E);
    E = NULL;
    CHECK(out == NULL);
    hievc_client_free(c);
    hievc_config_free(cfg);
}

static void test_server(const char *url) {
    SECTION("client against a FHIR server");
    hievc_config *cfg = NULL;
    hievc_client *c = NULL;
    EXPECT(HIEVC_OK, hievc_config_new(&cfg, &E));
    EXPECT(HIEVC_OK, hievc_config_set(cfg, "hie.url", url, &E));
    EXPECT(HIEVC_OK, hievc_client_new(cfg, &c, &E));
    hievc_config_free(cfg);
    char *out = NULL;

    EXPECT(HIEVC_OK, hievc_client_capabilities(c, NULL, &out, &E));
    CHECK(CONTAINS(out, "\"fhirVersion\":\"4.0.1\""));
    CHECK(CONTAINS(out, "\"statement\":{"));
    hievc_string_free(out);

    /* update-as-create, then update, then a stale If-Match. */
    char id[64];
    snprintf(id, sizeof id, "p-%s", uniq);
    EXPECT(HIEVC_OK, hievc_client_update(c, patient(id, "Tan"), NULL, &out, &E));
    CHECK(CONTAINS(out, "\"kind\":\"created\""));
    CHECK(CONTAINS(out, "\"status\":201"));
    hievc_string_free(out);
    EXPECT(HIEVC_OK, hievc_client_update(c, patient(id, "Lim"), "{\"prefer\":\"representation\",\"request_id\":\"req-upd\"}", &out, &E));
    CHECK(CONTAINS(out, "\"kind\":\"updated\""));
    CHECK(CONTAINS(out, "\"versionId\":\"2\""));
    CHECK(CONTAINS(out, "\"requestId\":\"req-upd\""));
    hievc_string_free(out);
    out = NULL;
    EXPECT_KEEP(HIEVC_PRECONDITION_FAILED, hievc_client_update(c, patient(id, "Wong"), "{\"if_match\":\"1\",\"request_id\":\"req-stale\"}", &out, &E));
    CHECK(hievc_error_http_status(E) == 412);
    CHECK(CONTAINS(hievc_error_operation_outcome(E), "\"resourceType\":\"OperationOutcome\""));
    CHECK(hievc_error_request_id(E) && strcmp(hievc_error_request_id(E), "req-stale") == 0);
    CHECK(!hievc_error_is_retryable(E));
    CHECK(out == NULL);
    hievc_error_free(E);
    E = NULL;

    EXPECT(HIEVC_OK, hievc_client_read(c, "Patient", id, NULL, &out, &E));
    CHECK(CONTAINS(out, "\"family\":\"Lim\""));
    CHECK(CONTAINS(out, "\"versionId\":\"2\""));
    CHECK(CONTAINS(out, "\"etag\":\"W/\\\"2\\\"\""));
    hievc_string_free(out);
    EXPECT(HIEVC_OK, hievc_client_vread(c, "Patient", id, "1", NULL, &out, &E));
    CHECK(CONTAINS(out, "\"family\":\"Tan\""));
    hievc_string_free(out);
    EXPECT(HIEVC_NOT_FOUND, hievc_client_read(c, "Patient", "no-such-patient-xyz", NULL, &out, &E));

    /* create (server-assigned id), conditional create. */
    char cid[64];
    snprintf(cid, sizeof cid, "c-%s", uniq);
    EXPECT(HIEVC_OK, hievc_client_create(c, patient(cid, "Ng"), "{\"prefer\":\"representation\"}", &out, &E));
    CHECK(CONTAINS(out, "\"kind\":\"created\""));
    CHECK(CONTAINS(out, "\"resource\":{\"resourceType\":\"Patient\""));
    hievc_string_free(out);

    /* search: one page, then every page. */
    EXPECT(HIEVC_OK, hievc_client_search(c, "Patient", fmt("identifier=http://fhir.hie.moh.gov.my/sid/patient-mrn|%s", id), NULL, &out, &E));
    CHECK(CONTAINS(out, "\"matches\":[{\"resourceType\":\"Patient\""));
    CHECK(CONTAINS(out, fmt("\"id\":\"%s\"", id)));
    hievc_string_free(out);
    EXPECT(HIEVC_OK, hievc_client_search(c, "Patient", "_count=1", "{\"all\":true,\"max_pages\":3}", &out, &E));
    CHECK(CONTAINS(out, "\"pages\":2") || CONTAINS(out, "\"pages\":3"));
    hievc_string_free(out);
    EXPECT(HIEVC_OK, hievc_client_search(c, "Patient", NULL, "{\"via_post\":true,\"max_results\":1}", &out, &E));
    CHECK(CONTAINS(out, "\"matches\":["));
    hievc_string_free(out);

    /* history: instance, type, system. */
    EXPECT(HIEVC_OK, hievc_client_history(c, "Patient", id, NULL, &out, &E));
    CHECK(CONTAINS(out, "\"versionId\":\"2\"") && CONTAINS(out, "\"versionId\":\"1\""));
    hievc_string_free(out);
    EXPECT(HIEVC_OK, hievc_client_history(c, "Patient", NULL, "{\"count\":2}", &out, &E));
    CHECK(CONTAINS(out, "\"entries\":["));
    hievc_string_free(out);
    EXPECT(HIEVC_OK, hievc_client_history(c, NULL, NULL, "{\"count\":2}", &out, &E));
    CHECK(CONTAINS(out, "\"entries\":["));
    hievc_string_free(out);

    /* A transaction of two PUTs. */
    const char *bundle = fmt("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                             "{\"resource\":%s,\"request\":{\"method\":\"PUT\",\"url\":\"Patient/t1-%s\"}},"
                             "{\"resource\":%s,\"request\":{\"method\":\"PUT\",\"url\":\"Patient/t2-%s\"}}]}",
                             patient(fmt("t1-%s", uniq), "A"), uniq, patient(fmt("t2-%s", uniq), "B"), uniq);
    EXPECT(HIEVC_OK, hievc_client_bundle(c, bundle, NULL, &out, &E));
    CHECK(CONTAINS(out, "\"kind\":\"transaction-response\""));
    CHECK(CONTAINS(out, "\"success\":true"));
    CHECK(CONTAINS(out, "\"index\":1"));
    hievc_string_free(out);

    /* A VC Encounter: validated, stored, found by its vc-token. */
    char *enc = data_file("vc_encounter.json");
    char *renamed = enc ? malloc(strlen(enc) + 64) : NULL;
    if (renamed) {
        const char *at = strstr(enc, "\"id\":\"enc-2\"");
        snprintf(renamed, strlen(enc) + 64, "%.*s\"id\":\"enc-%s\"%s", (int)(at - enc), enc, uniq, at + strlen("\"id\":\"enc-2\""));
        EXPECT(HIEVC_OK, hievc_client_update(c, renamed, NULL, &out, &E));
        CHECK(CONTAINS(out, "\"kind\":\"created\""));
        hievc_string_free(out);
        EXPECT(HIEVC_OK, hievc_client_find_encounters_by_vc_token(c, "00000002-6c4d-485a-9514-cbf6ccfeed6b", &out, &E));
        CHECK(CONTAINS(out, fmt("\"id\":\"enc-%s\"", uniq)));
        CHECK(out && out[0] == '[');
        hievc_string_free(out);
        EXPECT(HIEVC_OK, hievc_client_find_encounter_for_appointment(c, "ap-2", &out, &E));
        CHECK(out && (out[0] == '{' || strcmp(out, "null") == 0));
        hievc_string_free(out);
        EXPECT(HIEVC_INVALID_INPUT, hievc_client_find_encounter_for_appointment(c, "ap 2", &out, &E));
    }
    free(renamed);
    free(enc);

    /* delete, then the read says Gone. */
    EXPECT(HIEVC_OK, hievc_client_delete(c, "Patient", id, NULL, &out, &E));
    CHECK(CONTAINS(out, "\"status\":204") || CONTAINS(out, "\"status\":200"));
    hievc_string_free(out);
    out = NULL;
    EXPECT_KEEP(HIEVC_GONE, hievc_client_read(c, "Patient", id, NULL, &out, &E));
    CHECK(hievc_error_http_status(E) == 410);
    hievc_error_free(E);
    E = NULL;
    CHECK(out == NULL);
    hievc_client_free(c);
}

int main(void) {
    snprintf(uniq, sizeof uniq, "%d-%ld", (int)getpid(), (long)time(NULL));
    test_misuse_offline();
    const char *url = getenv("HIEVC_FHIR_URL");
    if (url && *url) {
        test_server(url);
    } else {
        service_missing("client against a FHIR server", "HIEVC_FHIR_URL is not set; tests/ffi.sh starts one");
    }
    CHECK(hievc_shutdown(NULL) == HIEVC_OK);
    return finish("test_client");
}
