/* libhievc C suite, part 1: version, status, strings, errors, configuration, FHIR reading, MY
 * Core validation, misuse (NULL, invalid UTF-8, invalid JSON, free of NULL) and shutdown. */
#include <stdint.h>

#include "check.h"

static hievc_error *E = NULL;

static void test_version(void) {
    SECTION("version");
    const char *v = hievc_version();
    CHECK(v != NULL);
    CHECK(strcmp(v, HIEVC_VERSION_STRING) == 0);
    CHECK(HIEVC_VERSION_NUMBER == HIEVC_VERSION_MAJOR * 10000 + HIEVC_VERSION_MINOR * 100 + HIEVC_VERSION_PATCH);
}

static void test_status_names(void) {
    SECTION("status names");
    CHECK(strcmp(hievc_status_name(HIEVC_OK), "ok") == 0);
    CHECK(strcmp(hievc_status_name(HIEVC_NULL_ARGUMENT), "null_argument") == 0);
    CHECK(strcmp(hievc_status_name(HIEVC_NOT_FOUND), "not_found") == 0);
    CHECK(strcmp(hievc_status_name(HIEVC_PANIC), "panic") == 0);
    CHECK(strcmp(hievc_status_name(HIEVC_OTHER), "other") == 0);
    CHECK(strcmp(hievc_status_name(-7), "unknown") == 0);
    CHECK(strcmp(hievc_status_name(99999), "unknown") == 0);
    /* Explicit values are part of the ABI. */
    CHECK(HIEVC_OK == 0 && HIEVC_NULL_ARGUMENT == 1 && HIEVC_INVALID_UTF8 == 2 && HIEVC_INVALID_JSON == 3);
    CHECK(HIEVC_PANIC == 4 && HIEVC_NO_EVENT == 6 && HIEVC_BAD_REQUEST == 100 && HIEVC_HANDLER == 124);
}

static void test_free_null(void) {
    SECTION("free of NULL is a no-op");
    hievc_string_free(NULL);
    hievc_error_free(NULL);
    hievc_config_free(NULL);
    hievc_client_free(NULL);
    hievc_validator_free(NULL);
    hievc_listener_free(NULL);
    hievc_event_free(NULL);
    hievc_memory_broker_free(NULL);
    CHECK(1);
}

static void test_error_accessors_on_null(void) {
    SECTION("error accessors on NULL");
    CHECK(hievc_error_code(NULL) == HIEVC_NULL_ARGUMENT);
    CHECK(hievc_error_kind(NULL) == NULL);
    CHECK(hievc_error_message(NULL) == NULL);
    CHECK(hievc_error_http_status(NULL) == 0);
    CHECK(hievc_error_operation_outcome(NULL) == NULL);
    CHECK(hievc_error_report(NULL) == NULL);
    CHECK(hievc_error_location(NULL) == NULL);
    CHECK(hievc_error_request_id(NULL) == NULL);
    CHECK(hievc_error_retry_after_ms(NULL) == -1);
    CHECK(!hievc_error_is_retryable(NULL));
    CHECK(hievc_error_json(NULL) == NULL);
}

static void test_config(void) {
    SECTION("config");
    hievc_config *cfg = NULL;
    EXPECT(HIEVC_OK, hievc_config_new(&cfg, &E));
    CHECK(cfg != NULL);
    EXPECT(HIEVC_OK, hievc_config_set(cfg, "hie.url", "http://127.0.0.1:1/fhir", &E));
    EXPECT(HIEVC_OK, hievc_config_set(cfg, "hie.validate", "false", &E));
    EXPECT(HIEVC_OK, hievc_config_set(cfg, "hie.timeout_secs", "7", &E));
    EXPECT(HIEVC_OK, hievc_config_set(cfg, "kafka.topics", "a, b", &E));
    /* An unknown key is refused and named; the config keeps its values. */
    EXPECT_KEEP(HIEVC_CONFIG, hievc_config_set(cfg, "hie.ulr", "x", &E));
    CHECK(CONTAINS(hievc_error_message(E), "ulr"));
    CHECK(strcmp(hievc_error_kind(E), "config") == 0);
    CHECK(hievc_error_code(E) == HIEVC_CONFIG);
    CHECK(CONTAINS(hievc_error_json(E), "\"statusName\":\"config\""));
    hievc_error_free(E);
    E = NULL;
    EXPECT(HIEVC_CONFIG, hievc_config_set(cfg, "hie.timeout_secs", "soon", &E));
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_config_set(cfg, "nodot", "x", &E));
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_config_set(cfg, "hie.", "x", &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_config_set(NULL, "hie.url", "x", &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_config_set(cfg, NULL, "x", &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_config_set(cfg, "hie.url", NULL, &E));
    EXPECT(HIEVC_INVALID_UTF8, hievc_config_set(cfg, "hie.url", "http://\xff\xfe", &E));
    /* The config still builds a client after the refused changes. */
    hievc_client *client = NULL;
    EXPECT(HIEVC_OK, hievc_client_new(cfg, &client, &E));
    hievc_client_free(client);
    hievc_config_free(cfg);

    cfg = NULL;
    EXPECT(HIEVC_OK, hievc_config_from_json("{\"hie\":{\"url\":\"https://fhir.example/baseR4\",\"bearer_token\":\"t\"},"
                                            "\"kafka\":{\"bootstrap\":\"127.0.0.1:9092\",\"topics\":[\"vc\"],\"group\":\"g\"}}",
                                            &cfg, &E));
    hievc_config_free(cfg);
    cfg = NULL;
    EXPECT(HIEVC_INVALID_JSON, hievc_config_from_json("{\"hie\":", &cfg, &E));
    CHECK(cfg == NULL); /* outputs are written only on success */
    EXPECT(HIEVC_CONFIG, hievc_config_from_json("{\"hie\":{\"nope\":1}}", &cfg, &E));
    EXPECT(HIEVC_CONFIG, hievc_config_from_json("[1,2]", &cfg, &E));
    EXPECT(HIEVC_INVALID_UTF8, hievc_config_from_json("{\"hie\":{\"url\":\"\xc3\x28\"}}", &cfg, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_config_from_json(NULL, &cfg, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_config_from_json("{}", NULL, &E));
    CHECK(cfg == NULL);

    EXPECT(HIEVC_OK, hievc_config_from_toml("[hie]\nurl = \"http://127.0.0.1:9/\"\n[jitsi]\nprovider = \"self-hosted\"\n", &cfg, &E));
    hievc_config_free(cfg);
    cfg = NULL;
    EXPECT(HIEVC_CONFIG, hievc_config_from_toml("[hie\nurl=", &cfg, &E));
    EXPECT(HIEVC_CONFIG, hievc_config_from_toml("[kafka]\ntopics = 3\n", &cfg, &E));
    CHECK(cfg == NULL);

    setenv("HIE_VC_HIE_URL", "http://from-env.example/fhir", 1);
    EXPECT(HIEVC_OK, hievc_config_from_env(&cfg, &E));
    EXPECT(HIEVC_OK, hievc_client_new(cfg, &client, &E));
    hievc_client_free(client);
    hievc_config_free(cfg);
    unsetenv("HIE_VC_HIE_URL");

    /* A client needs hie.url; errors name the setting. */
    EXPECT(HIEVC_OK, hievc_config_new(&cfg, &E));
    client = NULL;
    EXPECT_KEEP(HIEVC_CONFIG, hievc_client_new(cfg, &client, &E));
    CHECK(CONTAINS(hievc_error_message(E), "hie.url"));
    CHECK(client == NULL);
    hievc_error_free(E);
    E = NULL;
    EXPECT(HIEVC_OK, hievc_config_set(cfg, "hie.url", "ftp://nope/", &E));
    EXPECT(HIEVC_CONFIG, hievc_client_new(cfg, &client, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_client_new(NULL, &client, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_client_new(cfg, NULL, &E));
    /* The error out-parameter is optional. */
    CHECK(hievc_client_new(cfg, &client, NULL) == HIEVC_CONFIG);
    hievc_config_free(cfg);
}

static const char *APPOINTMENT_QUIRKY =
    "{\"resourceType\":\"Appointment\",\"id\":\"a1\",\"status\":\"booked\","
    "\"slot\":{\"reference\":\"Slot/s1\"},\"participant\":[{\"status\":\"accepted\"}],\"x-local\":1.50}";

static void test_fhir_read(void) {
    SECTION("fhir read");
    char *out = NULL;
    /* Strict: a single object where R4 wants an array is refused, with its location. */
    EXPECT_KEEP(HIEVC_DECODE, hievc_fhir_read(APPOINTMENT_QUIRKY, NULL, &out, &E));
    CHECK(CONTAINS(hievc_error_location(E), "Appointment.slot"));
    CHECK(strcmp(hievc_error_kind(E), "decode") == 0);
    CHECK(out == NULL);
    hievc_error_free(E);
    E = NULL;
    /* Lenient: accepted, normalised to an array, reported as warnings; unknown elements kept. */
    EXPECT(HIEVC_OK, hievc_fhir_read(APPOINTMENT_QUIRKY, "{\"mode\":\"lenient\"}", &out, &E));
    CHECK(CONTAINS(out, "\"slot\":[{\"reference\":\"Slot/s1\"}]"));
    CHECK(CONTAINS(out, "\"x-local\":1.50"));
    CHECK(CONTAINS(out, "\"kind\":\"single_for_array\""));
    CHECK(CONTAINS(out, "\"kind\":\"unknown_element\""));
    CHECK(CONTAINS(out, "},\"resourceType\":\"Appointment\",\"warnings\":[")); /* the document's own key, after the resource */
    hievc_string_free(out);
    out = NULL;
    EXPECT(HIEVC_OK, hievc_fhir_read(APPOINTMENT_QUIRKY, "{\"mode\":\"lenient\",\"pretty\":true}", &out, &E));
    CHECK(CONTAINS(out, "\n"));
    hievc_string_free(out);
    out = NULL;
    EXPECT(HIEVC_DECODE, hievc_fhir_read(APPOINTMENT_QUIRKY, "{\"mode\":\"lenient\",\"deny_unknown\":true}", &out, &E));
    /* Misuse. */
    EXPECT(HIEVC_INVALID_JSON, hievc_fhir_read("{\"resourceType\":", NULL, &out, &E));
    EXPECT(HIEVC_INVALID_JSON, hievc_fhir_read("", NULL, &out, &E));
    EXPECT(HIEVC_INVALID_UTF8, hievc_fhir_read("{\"resourceType\":\"Patient\",\"id\":\"\xff\"}", NULL, &out, &E));
    EXPECT(HIEVC_INVALID_JSON, hievc_fhir_read("{}", "{\"mode\":", &out, &E));
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_fhir_read("{}", "{\"mode\":\"sloppy\"}", &out, &E));
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_fhir_read("{}", "{\"colour\":1}", &out, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_fhir_read(NULL, NULL, &out, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_fhir_read("{}", NULL, NULL, &E));
    CHECK(out == NULL);
}

static void test_validate(void) {
    SECTION("validate");
    char *enc = data_file("vc_encounter.json");
    char *bad = data_file("vc_encounter_invalid.json");
    CHECK(enc != NULL && bad != NULL);
    if (!enc || !bad) {
        free(enc);
        free(bad);
        return;
    }
    char *out = NULL;
    EXPECT(HIEVC_OK, hievc_validate(enc, &out, &E));
    CHECK(CONTAINS(out, "\"valid\":true"));
    CHECK(CONTAINS(out, "\"errors\":0"));
    hievc_string_free(out);
    out = NULL;
    /* An invalid resource still returns OK: the report says what is wrong. */
    EXPECT(HIEVC_OK, hievc_validate(bad, &out, &E));
    CHECK(CONTAINS(out, "\"valid\":false"));
    CHECK(CONTAINS(out, "\"rule\":\"vc-token-required\""));
    CHECK(CONTAINS(out, "\"location\":\"Encounter.subject\""));
    hievc_string_free(out);
    out = NULL;
    EXPECT(HIEVC_OK, hievc_validate_operation_outcome(bad, &out, &E));
    CHECK(CONTAINS(out, "\"resourceType\":\"OperationOutcome\""));
    CHECK(CONTAINS(out, "\"severity\":\"error\""));
    hievc_string_free(out);
    out = NULL;
    EXPECT(HIEVC_OK, hievc_validate_operation_outcome(enc, &out, &E));
    CHECK(CONTAINS(out, "\"severity\":\"information\"") || CONTAINS(out, "\"severity\":\"warning\""));
    hievc_string_free(out);
    out = NULL;

    hievc_validator *v = NULL;
    EXPECT(HIEVC_OK, hievc_validator_new(NULL, "{\"require_profile_claim\":true}", &v, &E));
    EXPECT(HIEVC_OK, hievc_validator_validate(v, enc, &out, &E));
    CHECK(CONTAINS(out, "\"valid\":true"));
    hievc_string_free(out);
    out = NULL;
    EXPECT(HIEVC_OK, hievc_validator_operation_outcome(v, bad, &out, &E));
    CHECK(CONTAINS(out, "vc-token-required"));
    hievc_string_free(out);
    out = NULL;
    /* Misuse. */
    EXPECT(HIEVC_INVALID_JSON, hievc_validator_validate(v, "not json", &out, &E));
    EXPECT(HIEVC_DECODE, hievc_validator_validate(v, "{\"resourceType\":\"Encounter\",\"status\":7}", &out, &E));
    EXPECT(HIEVC_INVALID_UTF8, hievc_validator_validate(v, "{\"resourceType\":\"Encounter\",\"id\":\"\x80\"}", &out, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_validator_validate(NULL, enc, &out, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_validator_validate(v, NULL, &out, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_validator_validate(v, enc, NULL, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_validate(enc, NULL, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_validate_operation_outcome(NULL, &out, &E));
    EXPECT(HIEVC_INVALID_JSON, hievc_validator_new(NULL, "{", &v, &E));
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_validator_new(NULL, "{\"strictness\":1}", &v, &E));
    CHECK(out == NULL);
    hievc_validator_free(v);

    /* A validator from a config takes hie.profile_base. */
    hievc_config *cfg = NULL;
    EXPECT(HIEVC_OK, hievc_config_from_json("{\"hie\":{\"profile_base\":\"http://old.example/StructureDefinition\"}}", &cfg, &E));
    v = NULL;
    EXPECT(HIEVC_OK, hievc_validator_new(cfg, NULL, &v, &E));
    EXPECT(HIEVC_OK, hievc_validator_validate(v, enc, &out, &E));
    CHECK(CONTAINS(out, "\"issues\":["));
    hievc_string_free(out);
    hievc_validator_free(v);
    hievc_config_free(cfg);
    free(enc);
    free(bad);
}

/* Documents as bytes fail exactly as the SDK's reader does (the behaviour spec relies on it);
 * raw records with headers and tombstones go in and come back out of the in-memory broker. */
static void test_bytes_and_records(void) {
    SECTION("documents as bytes, raw records");
    char *out = NULL;
    const char *bad = "{\"resourceType\":\"Patient\",\"id\":\"\xff\"}";
    EXPECT_KEEP(HIEVC_DECODE, hievc_fhir_read_bytes((const uint8_t *)bad, strlen(bad), NULL, &out, &E));
    CHECK(E && strcmp(hievc_error_kind(E), "decode") == 0 && CONTAINS(hievc_error_location(E), "Patient.id"));
    hievc_error_free(E);
    E = NULL;
    EXPECT_KEEP(HIEVC_DECODE, hievc_fhir_read_bytes((const uint8_t *)"not json", 8, NULL, &out, &E));
    CHECK(E && strcmp(hievc_error_kind(E), "decode") == 0 && strcmp(hievc_error_location(E), "$") == 0);
    hievc_error_free(E);
    E = NULL;
    EXPECT(HIEVC_DECODE, hievc_fhir_read_bytes(NULL, 0, NULL, &out, &E)); /* empty: not a resource */
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_fhir_read_bytes(NULL, 3, NULL, &out, &E));
    CHECK(out == NULL);
    const char *patient = "{\"id\":\"p\",\"resourceType\":\"Patient\",\"x\":1.50}";
    EXPECT(HIEVC_OK, hievc_fhir_read_bytes((const uint8_t *)patient, strlen(patient), "{\"resource_only\":true}", &out, &E));
    CHECK(out && out[0] == '{' && CONTAINS(out, "\"id\":\"p\"") && CONTAINS(out, "\"x\":1.50") && !CONTAINS(out, "warnings"));
    hievc_string_free(out);
    out = NULL;
    EXPECT(HIEVC_INVALID_INPUT, hievc_fhir_vc_view((const uint8_t *)patient, strlen(patient), NULL, &out, &E));
    char *enc = data_file("vc_encounter.json");
    CHECK(enc != NULL);
    if (enc) {
        EXPECT(HIEVC_OK, hievc_fhir_vc_view((const uint8_t *)enc, strlen(enc), "{\"mode\":\"lenient\"}", &out, &E));
        CHECK(CONTAINS(out, "\"type\":\"VCI\"") || CONTAINS(out, "\"type\":\"VCE\""));
        hievc_string_free(out);
        out = NULL;
        hievc_validator *v = NULL;
        EXPECT(HIEVC_OK, hievc_validator_new(NULL, NULL, &v, &E));
        EXPECT(HIEVC_OK, hievc_validator_validate_bytes(v, (const uint8_t *)enc, strlen(enc), NULL, &out, &E));
        CHECK(CONTAINS(out, "\"valid\":true"));
        hievc_string_free(out);
        out = NULL;
        EXPECT(HIEVC_INVALID_ARGUMENT, hievc_validator_validate_bytes(v, (const uint8_t *)enc, strlen(enc), "{\"pretty\":true}", &out, &E));
        EXPECT(HIEVC_DECODE, hievc_validator_validate_bytes(v, (const uint8_t *)"[]", 2, NULL, &out, &E));
        hievc_validator_free(v);
        free(enc);
    }

    hievc_memory_broker *b = NULL;
    int64_t offset = -1;
    EXPECT(HIEVC_OK, hievc_memory_broker_new(&b, &E));
    EXPECT(HIEVC_OK, hievc_memory_broker_send_record(b, "raw", NULL, 5, "k1", "[{\"key\":\"h\",\"value\":\"v\"},{\"key\":\"n\",\"value\":null}]", 0, &offset, &E));
    CHECK(offset == 0);
    EXPECT(HIEVC_OK, hievc_memory_broker_send_record(b, "raw", (const uint8_t *)"", 0, NULL, NULL, -1, &offset, &E));
    CHECK(offset == 1);
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_memory_broker_send_record(b, "raw", NULL, 0, NULL, "[{\"name\":\"h\"}]", 0, &offset, &E));
    EXPECT(HIEVC_INVALID_JSON, hievc_memory_broker_send_record(b, "raw", NULL, 0, NULL, "[", 0, &offset, &E));
    EXPECT(HIEVC_INVALID_INPUT, hievc_memory_broker_send_record(b, "raw", NULL, 0, NULL, NULL, 3, &offset, &E));
    CHECK(offset == 1);
    EXPECT(HIEVC_OK, hievc_memory_broker_records(b, "raw", &out, &E));
    CHECK(CONTAINS(out, "\"offset\":0,\"key\":\"k1\",\"payload\":null,"));
    CHECK(CONTAINS(out, "\"headers\":[{\"key\":\"h\",\"value\":\"v\"},{\"key\":\"n\",\"value\":null}]"));
    CHECK(CONTAINS(out, "\"offset\":1,\"key\":null,\"payload\":\"\","));
    hievc_string_free(out);
    out = NULL;
    EXPECT(HIEVC_OK, hievc_memory_broker_records(b, "none", &out, &E));
    CHECK(out && strcmp(out, "[]") == 0);
    hievc_string_free(out);
    out = NULL;
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_memory_broker_records(b, "raw", NULL, &E));
    hievc_memory_broker_free(b);
}

static void test_shutdown(void) {
    SECTION("shutdown");
    /* Make sure the runtime exists (a client registers with it), then stop it. */
    hievc_config *cfg = NULL;
    hievc_client *client = NULL;
    EXPECT(HIEVC_OK, hievc_config_from_json("{\"hie\":{\"url\":\"http://127.0.0.1:9/\"}}", &cfg, &E));
    EXPECT(HIEVC_OK, hievc_client_new(cfg, &client, &E));
    EXPECT(HIEVC_OK, hievc_shutdown(&E));
    EXPECT(HIEVC_OK, hievc_shutdown(&E)); /* idempotent */
    char *out = NULL;
    EXPECT(HIEVC_SHUT_DOWN, hievc_client_read(client, "Patient", "p1", NULL, &out, &E));
    CHECK(out == NULL);
    /* What needs no runtime keeps working. */
    EXPECT(HIEVC_OK, hievc_validate("{\"resourceType\":\"Patient\",\"id\":\"p\"}", &out, &E));
    hievc_string_free(out);
    hievc_client_free(client);
    hievc_config_free(cfg);
}

int main(void) {
    test_version();
    test_status_names();
    test_free_null();
    test_error_accessors_on_null();
    test_config();
    test_fhir_read();
    test_validate();
    test_bytes_and_records();
    test_shutdown();
    return finish("test_basic");
}
