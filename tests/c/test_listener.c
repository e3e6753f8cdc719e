/* libhievc C suite, part 2: the Encounter listener — callback and pull APIs, event accessors,
 * acknowledgement, retries and failures, misuse (double close, wrong state, NULL) — on the
 * in-memory broker, then on the real Kafka broker (HIEVC_KAFKA_BOOTSTRAP; skipped with a notice
 * when unset: a failure, never a skip). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static hievc_error *E = NULL;

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *encounter(int n, int version) {
    char *tpl = data_file("vc_encounter.json");
    if (!tpl) return NULL;
    /* The template is enc-2 version 1: give it id enc-<n> and versionId <version>. */
    size_t len = strlen(tpl) + 64;
    char *out = malloc(len);
    const char *id = strstr(tpl, "\"id\":\"enc-2\"");
    const char *ver = strstr(tpl, "\"versionId\":\"1\"");
    if (!out || !id || !ver || ver < id) {
        free(tpl);
        free(out);
        return NULL;
    }
    int a = (int)(id - tpl);
    const char *after_id = id + strlen("\"id\":\"enc-2\"");
    int b = (int)(ver - after_id);
    const char *after_ver = ver + strlen("\"versionId\":\"1\"");
    snprintf(out, len, "%.*s\"id\":\"enc-%d\"%.*s\"versionId\":\"%d\"%s", a, tpl, n, b, after_id, version, after_ver);
    /* One line, for kcat. */
    for (char *p = out; *p; p++)
        if (*p == '\n') *p = ' ';
    free(tpl);
    return out;
}

static const char *OUTPATIENT =
    "{\"resourceType\":\"Encounter\",\"id\":\"amb-1\",\"status\":\"finished\",\"class\":{\"system\":"
    "\"http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core\",\"code\":\"AMB\"},"
    "\"subject\":{\"reference\":\"Patient/p1\"}}";

/* ---- what the callbacks saw ---- */

typedef struct {
    pthread_mutex_t lock;
    int events;
    int failures;
    int permanent_seen;
    int fail_first_of; /* fail the first delivery of enc-<n> (retried) */
    int failed_once;
    int reject_permanently; /* return -1 for enc-<n> */
    int seen_ids[64];
    int nseen;
    int on_main_thread;
    int accessors_ok;
    int library_calls_ok;
    int own_close_refused;
    int shutdown_refused;
    hievc_listener *self;
    hievc_encounter_event *kept; /* a clone made in the callback */
    char last_failure[2048];
} seen_t;

static pthread_t main_thread;

static int id_number(const char *id) {
    return id && strncmp(id, "enc-", 4) == 0 ? atoi(id + 4) : -1;
}

static int on_encounter(void *userdata, const hievc_encounter_event *ev) {
    seen_t *s = userdata;
    const char *id = hievc_event_encounter_id(ev);
    int n = id_number(id);
    int ok = id != NULL && hievc_event_version_id(ev) != NULL && hievc_event_vc_type(ev) != NULL &&
             (strcmp(hievc_event_vc_type(ev), "VCI") == 0 || strcmp(hievc_event_vc_type(ev), "VCE") == 0) &&
             hievc_event_vc_token(ev) != NULL && strcmp(hievc_event_status(ev), "arrived") == 0 &&
             hievc_event_topic(ev) != NULL && hievc_event_partition(ev) >= 0 && hievc_event_offset(ev) >= 0 &&
             CONTAINS(hievc_event_encounter_json(ev), "\"resourceType\":\"Encounter\"") &&
             CONTAINS(hievc_event_json(ev), "\"vc\":{\"id\":") &&
             CONTAINS(hievc_event_json(ev), "\"layout\":{\"kind\":\"encounter\"}");
    size_t len = 0;
    const uint8_t *payload = hievc_event_payload(ev, &len);
    ok = ok && payload != NULL && len > 100 && memcmp(payload, "{\"resourceType\"", 15) == 0;
    /* A callback may call the library: validate what arrived. */
    char *report = NULL;
    int lib_ok = hievc_validate(hievc_event_encounter_json(ev), &report, NULL) == HIEVC_OK &&
                 CONTAINS(report, "\"valid\":true");
    hievc_string_free(report);
    /* ...but not close its own listener, nor shut the library down. */
    hievc_error *err = NULL;
    int refused = s->self == NULL || (hievc_listener_close(s->self, &err) == HIEVC_INVALID_STATE);
    hievc_error_free(err);
    err = NULL;
    int shut_refused = hievc_shutdown(&err) == HIEVC_INVALID_STATE;
    hievc_error_free(err);
    /* Acknowledging a callback's event is refused: the return value answers. */
    err = NULL;
    int ack_refused = hievc_event_ack(ev, 0, &err) == HIEVC_INVALID_STATE;
    hievc_error_free(err);

    int rc = 0;
    pthread_mutex_lock(&s->lock);
    if (pthread_equal(pthread_self(), main_thread)) s->on_main_thread++;
    if (ok && ack_refused) s->accessors_ok++;
    if (lib_ok) s->library_calls_ok++;
    if (refused) s->own_close_refused++;
    if (shut_refused) s->shutdown_refused++;
    if (n == s->fail_first_of && !s->failed_once) {
        s->failed_once = 1;
        rc = 1; /* retried */
    } else if (n == s->reject_permanently) {
        rc = -1; /* no retries: straight to the error callback */
    } else {
        s->events++;
        if (s->nseen < 64) s->seen_ids[s->nseen++] = n;
        if (!s->kept) hievc_event_clone(ev, &s->kept, NULL);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static void on_failure(void *userdata, const char *failure_json) {
    seen_t *s = userdata;
    pthread_mutex_lock(&s->lock);
    s->failures++;
    if (CONTAINS(failure_json, "\"reason\":\"handler\"") && CONTAINS(failure_json, "\"attempts\":1")) s->permanent_seen++;
    snprintf(s->last_failure, sizeof s->last_failure, "%s", failure_json);
    pthread_mutex_unlock(&s->lock);
}

static int wait_for(seen_t *s, int events, int failures, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        pthread_mutex_lock(&s->lock);
        int done = s->events >= events && s->failures >= failures;
        pthread_mutex_unlock(&s->lock);
        if (done) return 1;
        sleep_ms(20);
    }
    return 0;
}

static void send_memory(hievc_memory_broker *b, const char *topic, const char *payload, int partition) {
    int64_t off = -1;
    EXPECT(HIEVC_OK, hievc_memory_broker_send(b, topic, (const uint8_t *)payload, strlen(payload), NULL, partition, &off, &E));
    CHECK(off >= 0);
}

static void test_memory_callback(void) {
    SECTION("memory broker: callback");
    hievc_memory_broker *b = NULL;
    EXPECT(HIEVC_OK, hievc_memory_broker_new(&b, &E));
    EXPECT(HIEVC_OK, hievc_memory_broker_create_topic(b, "vc", 2, &E));
    for (int n = 1; n <= 4; n++) {
        char *e = encounter(n, 1);
        send_memory(b, "vc", e, n % 2);
        free(e);
    }
    send_memory(b, "vc", OUTPATIENT, 0);           /* not VC: filtered, offset stored */
    send_memory(b, "vc", "{\"resourceType\":", 1); /* not JSON: error callback, skipped */
    char *rejected = encounter(9, 1);
    send_memory(b, "vc", rejected, 0); /* the callback refuses it for good */
    free(rejected);

    hievc_config *cfg = NULL;
    EXPECT(HIEVC_OK, hievc_config_from_json("{\"kafka\":{\"topics\":[\"vc\"],\"group\":\"clinic-a\"}}", &cfg, &E));
    hievc_listener *l = NULL;
    EXPECT(HIEVC_OK, hievc_listener_new_memory(cfg, b, "{\"metrics_interval_ms\":0,\"max_retries\":2,\"initial_backoff_ms\":10,\"dedupe\":true}", &l, &E));
    hievc_config_free(cfg); /* the listener keeps what it needs */

    seen_t s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.lock, NULL);
    s.fail_first_of = 3;
    s.reject_permanently = 9;
    s.self = l;
    CHECK(!hievc_listener_is_running(l));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_listener_set_error_callback(l, NULL, &s, &E));
    EXPECT(HIEVC_OK, hievc_listener_set_error_callback(l, on_failure, &s, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_listener_start(l, NULL, &s, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_listener_start(NULL, on_encounter, &s, &E));
    EXPECT(HIEVC_OK, hievc_listener_start(l, on_encounter, &s, &E));
    CHECK(hievc_listener_is_running(l));
    EXPECT(HIEVC_INVALID_STATE, hievc_listener_start(l, on_encounter, &s, &E));
    EXPECT(HIEVC_INVALID_STATE, hievc_listener_set_error_callback(l, on_failure, &s, &E));
    hievc_encounter_event *ev = NULL;
    EXPECT(HIEVC_INVALID_STATE, hievc_listener_poll(l, 10, &ev, &E));
    CHECK(ev == NULL);

    CHECK(wait_for(&s, 4, 2, 10000));
    char *metrics = NULL;
    EXPECT(HIEVC_OK, hievc_listener_metrics(l, &metrics, &E));
    CHECK(CONTAINS(metrics, "\"handled\":4"));
    CHECK(CONTAINS(metrics, "\"filtered\":1"));
    CHECK(CONTAINS(metrics, "\"decodeErrors\":1"));
    CHECK(CONTAINS(metrics, "\"retries\":1"));
    hievc_string_free(metrics);

    EXPECT(HIEVC_OK, hievc_listener_stop(l, &E));
    CHECK(!hievc_listener_is_running(l));
    EXPECT(HIEVC_OK, hievc_listener_stop(l, &E)); /* idempotent */
    EXPECT(HIEVC_OK, hievc_listener_close(l, &E));
    EXPECT(HIEVC_OK, hievc_listener_close(l, &E)); /* double close */
    EXPECT(HIEVC_CLOSED, hievc_listener_start(l, on_encounter, &s, &E));
    EXPECT(HIEVC_CLOSED, hievc_listener_poll(l, 10, &ev, &E));

    pthread_mutex_lock(&s.lock);
    CHECK(s.events == 4);
    CHECK(s.failed_once == 1);
    CHECK(s.on_main_thread == 0);
    CHECK(s.accessors_ok >= 4);
    CHECK(s.library_calls_ok >= 4);
    CHECK(s.own_close_refused >= 4);
    CHECK(s.shutdown_refused >= 4);
    CHECK(s.failures == 2);
    CHECK(s.permanent_seen == 1);
    /* Order is kept within a partition: enc-2 before enc-4 (partition 0). */
    int pos2 = -1, pos4 = -1;
    for (int i = 0; i < s.nseen; i++) {
        if (s.seen_ids[i] == 2) pos2 = i;
        if (s.seen_ids[i] == 4) pos4 = i;
    }
    CHECK(pos2 >= 0 && pos4 > pos2);
    pthread_mutex_unlock(&s.lock);

    /* The clone outlives its callback. */
    CHECK(s.kept != NULL);
    CHECK(id_number(hievc_event_encounter_id(s.kept)) > 0);
    EXPECT(HIEVC_INVALID_STATE, hievc_event_ack(s.kept, 0, &E));
    hievc_event_free(s.kept);

    /* Every record's offset was stored and committed, failures included. */
    int64_t committed = -2;
    EXPECT(HIEVC_OK, hievc_memory_broker_committed(b, "clinic-a", "vc", 0, &committed, &E));
    CHECK(committed == 4); /* enc-2, enc-4, outpatient, enc-9 */
    EXPECT(HIEVC_OK, hievc_memory_broker_committed(b, "clinic-a", "vc", 1, &committed, &E));
    CHECK(committed == 3); /* enc-1, enc-3, garbage */
    EXPECT(HIEVC_OK, hievc_memory_broker_committed(b, "nobody", "vc", 0, &committed, &E));
    CHECK(committed == -1);

    hievc_listener_free(l);
    hievc_memory_broker_free(b);
    pthread_mutex_destroy(&s.lock);
}

static void test_memory_poll(void) {
    SECTION("memory broker: poll");
    hievc_memory_broker *b = NULL;
    EXPECT(HIEVC_OK, hievc_memory_broker_new(&b, &E));
    for (int n = 1; n <= 3; n++) {
        char *e = encounter(n, 1);
        send_memory(b, "vc-pull", e, -1);
        free(e);
    }
    hievc_config *cfg = NULL;
    EXPECT(HIEVC_OK, hievc_config_new(&cfg, &E));
    EXPECT(HIEVC_OK, hievc_config_set(cfg, "kafka.topics", "vc-pull", &E));
    EXPECT(HIEVC_OK, hievc_config_set(cfg, "kafka.group", "puller", &E));
    hievc_listener *l = NULL;
    EXPECT(HIEVC_INVALID_JSON, hievc_listener_new_memory(cfg, b, "{", &l, &E));
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_listener_new_memory(cfg, b, "{\"filter\":\"some\"}", &l, &E));
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_listener_new_memory(cfg, b, "{\"filtre\":\"all\"}", &l, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_listener_new_memory(cfg, NULL, NULL, &l, &E));
    CHECK(l == NULL);
    EXPECT(HIEVC_OK, hievc_listener_new_memory(cfg, b, "{\"metrics_interval_ms\":0,\"max_retries\":3,\"initial_backoff_ms\":10}", &l, &E));
    hievc_config_free(cfg);

    EXPECT(HIEVC_NULL_ARGUMENT, hievc_listener_poll(l, 10, NULL, &E));
    int got[8] = {0};
    int polled = 0, released = 0;
    for (int i = 0; i < 20 && polled < 3; i++) {
        hievc_encounter_event *ev = NULL;
        hievc_status st = hievc_listener_poll(l, 2000, &ev, &E);
        if (st == HIEVC_NO_EVENT) {
            CHECK(ev == NULL);
            continue;
        }
        EXPECT(HIEVC_OK, st);
        if (!ev) break;
        int n = id_number(hievc_event_encounter_id(ev));
        if (n == 2 && !released) {
            /* Freed without an answer: counts as a failure, so it comes back. */
            released = 1;
            hievc_event_free(ev);
            continue;
        }
        CHECK(CONTAINS(hievc_event_json(ev), "\"topic\":\"vc-pull\""));
        EXPECT(HIEVC_OK, hievc_event_ack(ev, 0, &E));
        EXPECT(HIEVC_INVALID_STATE, hievc_event_ack(ev, 0, &E)); /* once only */
        if (n > 0 && n < 8) got[n]++;
        polled++;
        hievc_event_free(ev);
    }
    CHECK(released == 1);
    CHECK(got[1] == 1 && got[2] == 1 && got[3] == 1);
    hievc_encounter_event *ev = NULL;
    EXPECT(HIEVC_NO_EVENT, hievc_listener_poll(l, 50, &ev, &E));
    EXPECT(HIEVC_NO_EVENT, hievc_listener_poll(l, 0, &ev, &E));
    CHECK(ev == NULL);
    EXPECT(HIEVC_INVALID_STATE, hievc_listener_start(l, on_encounter, NULL, &E));

    /* A poller blocked in another thread returns when the listener stops. */
    EXPECT(HIEVC_OK, hievc_listener_close(l, &E));
    EXPECT(HIEVC_CLOSED, hievc_listener_poll(l, 10, &ev, &E));
    int64_t committed = -2;
    EXPECT(HIEVC_OK, hievc_memory_broker_committed(b, "puller", "vc-pull", 0, &committed, &E));
    CHECK(committed == 3);
    hievc_listener_free(l);
    hievc_memory_broker_free(b);
}

typedef struct {
    hievc_listener *l;
    hievc_status status;
} poller_t;

static void *poll_forever(void *arg) {
    poller_t *p = arg;
    hievc_encounter_event *ev = NULL;
    p->status = hievc_listener_poll(p->l, 60000, &ev, NULL);
    hievc_event_free(ev);
    return NULL;
}

static void test_stop_wakes_poller(void) {
    SECTION("stop wakes a blocked poller; free without close");
    hievc_memory_broker *b = NULL;
    EXPECT(HIEVC_OK, hievc_memory_broker_new(&b, &E));
    hievc_config *cfg = NULL;
    EXPECT(HIEVC_OK, hievc_config_from_json("{\"kafka\":{\"topics\":[\"quiet\"]}}", &cfg, &E));
    hievc_listener *l = NULL;
    EXPECT(HIEVC_OK, hievc_listener_new_memory(cfg, b, "{\"metrics_interval_ms\":0}", &l, &E));
    hievc_encounter_event *ev = NULL;
    EXPECT(HIEVC_NO_EVENT, hievc_listener_poll(l, 10, &ev, &E)); /* starts it in pull mode */
    poller_t p = {l, HIEVC_OK};
    pthread_t t;
    pthread_create(&t, NULL, poll_forever, &p);
    sleep_ms(200);
    time_t before = time(NULL);
    EXPECT(HIEVC_OK, hievc_listener_stop(l, &E));
    pthread_join(t, NULL);
    CHECK(p.status == HIEVC_CLOSED);
    CHECK(time(NULL) - before < 10);
    hievc_listener_free(l); /* closes it */

    /* A listener freed while running is closed first. */
    EXPECT(HIEVC_OK, hievc_listener_new_memory(cfg, b, "{\"metrics_interval_ms\":0}", &l, &E));
    seen_t s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.lock, NULL);
    EXPECT(HIEVC_OK, hievc_listener_start(l, on_encounter, &s, &E));
    hievc_listener_free(l);
    pthread_mutex_destroy(&s.lock);

    /* Missing topics are a configuration error. */
    hievc_config_free(cfg);
    EXPECT(HIEVC_OK, hievc_config_new(&cfg, &E));
    l = NULL;
    EXPECT(HIEVC_CONFIG, hievc_listener_new_memory(cfg, b, NULL, &l, &E));
    EXPECT(HIEVC_CONFIG, hievc_listener_new(cfg, NULL, &l, &E));
    CHECK(l == NULL);
    hievc_config_free(cfg);
    hievc_memory_broker_free(b);

    /* Broker misuse. */
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_memory_broker_new(NULL, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_memory_broker_send(NULL, "t", (const uint8_t *)"x", 1, NULL, -1, NULL, &E));
    EXPECT(HIEVC_OK, hievc_memory_broker_new(&b, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_memory_broker_send(b, "t", NULL, 5, NULL, -1, NULL, &E));
    EXPECT(HIEVC_INVALID_UTF8, hievc_memory_broker_send(b, "\xff", (const uint8_t *)"x", 1, NULL, -1, NULL, &E));
    EXPECT(HIEVC_INVALID_INPUT, hievc_memory_broker_create_topic(b, "t", 0, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_memory_broker_committed(b, "g", "t", 0, NULL, &E));
    hievc_memory_broker_free(b);

    /* Event accessors on NULL. */
    CHECK(hievc_event_encounter_json(NULL) == NULL && hievc_event_json(NULL) == NULL);
    CHECK(hievc_event_encounter_id(NULL) == NULL && hievc_event_vc_token(NULL) == NULL);
    CHECK(hievc_event_partition(NULL) == -1 && hievc_event_offset(NULL) == -1);
    size_t len = 99;
    CHECK(hievc_event_payload(NULL, &len) == NULL && len == 99);
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_event_ack(NULL, 0, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_event_clone(NULL, &ev, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_listener_stop(NULL, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_listener_close(NULL, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_listener_metrics(NULL, NULL, &E));
    CHECK(!hievc_listener_is_running(NULL));
}

/* ---- real Kafka ---- */

static int produce(const char *bootstrap, const char *topic, int first, int count) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "kcat -P -b '%s' -t '%s' -K '|' 2>/dev/null", bootstrap, topic);
    FILE *p = popen(cmd, "w");
    if (!p) return 0;
    for (int n = first; n < first + count; n++) {
        char *e = encounter(n, 1);
        fprintf(p, "enc-%d|%s\n", n, e);
        free(e);
    }
    return pclose(p) == 0;
}

static void test_kafka(void) {
    const char *bootstrap = getenv("HIEVC_KAFKA_BOOTSTRAP");
    if (!bootstrap || !*bootstrap) {
        service_missing("kafka", "HIEVC_KAFKA_BOOTSTRAP is not set; tests/services/kafka.sh start");
        return;
    }
    if (system("command -v kcat >/dev/null 2>&1") != 0) {
        service_missing("kafka", "kcat is not installed: apt-get install -y kcat");
        return;
    }
    SECTION("kafka: callback, then pull, offsets committed");
    char topic[128], json[1024];
    snprintf(topic, sizeof topic, "hievc-ffi-c-%d-%ld", (int)getpid(), (long)time(NULL));
    CHECK(produce(bootstrap, topic, 1, 3));

    snprintf(json, sizeof json, "{\"kafka\":{\"bootstrap\":\"%s\",\"topics\":[\"%s\"],\"group\":\"%s-cb\"}}", bootstrap, topic, topic);
    hievc_config *cfg = NULL;
    EXPECT(HIEVC_OK, hievc_config_from_json(json, &cfg, &E));
    hievc_listener *l = NULL;
    const char *opts = "{\"metrics_interval_ms\":0,\"statistics_interval_ms\":0,\"properties\":{\"session.timeout.ms\":\"6000\"}}";
    EXPECT(HIEVC_OK, hievc_listener_new(cfg, opts, &l, &E));
    seen_t s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.lock, NULL);
    s.self = l;
    EXPECT(HIEVC_OK, hievc_listener_set_error_callback(l, on_failure, &s, &E));
    EXPECT(HIEVC_OK, hievc_listener_start(l, on_encounter, &s, &E));
    CHECK(wait_for(&s, 3, 0, 60000));
    EXPECT(HIEVC_OK, hievc_listener_stop(l, &E));
    EXPECT(HIEVC_OK, hievc_listener_close(l, &E));
    EXPECT(HIEVC_OK, hievc_listener_close(l, &E));
    CHECK(s.events == 3);
    CHECK(s.on_main_thread == 0);
    CHECK(s.accessors_ok == 3);
    if (s.kept) hievc_event_free(s.kept);
    hievc_listener_free(l);
    pthread_mutex_destroy(&s.lock);

    /* The same group again: everything was committed, nothing comes back. */
    EXPECT(HIEVC_OK, hievc_listener_new(cfg, opts, &l, &E));
    hievc_encounter_event *ev = NULL;
    EXPECT(HIEVC_NO_EVENT, hievc_listener_poll(l, 8000, &ev, &E));
    CHECK(ev == NULL);
    EXPECT(HIEVC_OK, hievc_listener_close(l, &E));
    hievc_listener_free(l);
    hievc_config_free(cfg);

    /* Pull mode, another group: all three, acknowledged one by one; more produced meanwhile. */
    snprintf(json, sizeof json, "{\"kafka\":{\"bootstrap\":\"%s\",\"topics\":[\"%s\"],\"group\":\"%s-pull\"}}", bootstrap, topic, topic);
    EXPECT(HIEVC_OK, hievc_config_from_json(json, &cfg, &E));
    EXPECT(HIEVC_OK, hievc_listener_new(cfg, opts, &l, &E));
    int got = 0;
    for (int i = 0; i < 30 && got < 5; i++) {
        ev = NULL;
        hievc_status st = hievc_listener_poll(l, 2000, &ev, &E);
        hievc_error_free(E);
        E = NULL;
        if (st != HIEVC_OK) continue;
        CHECK(strncmp(hievc_event_topic(ev), "hievc-ffi-c-", 12) == 0);
        EXPECT(HIEVC_OK, hievc_event_ack(ev, 0, &E));
        hievc_event_free(ev);
        if (++got == 3) CHECK(produce(bootstrap, topic, 10, 2));
    }
    CHECK(got == 5);
    EXPECT(HIEVC_OK, hievc_listener_close(l, &E));
    hievc_listener_free(l);
    hievc_config_free(cfg);

    /* Wrong broker credentials end the run with an error that stop/poll report. */
    SECTION("kafka: refused credentials");
    const char *sasl = getenv("HIEVC_KAFKA_SASL_BOOTSTRAP");
    if (!sasl || !*sasl) {
        service_missing("kafka SASL", "HIEVC_KAFKA_SASL_BOOTSTRAP is not set");
        return;
    }
    snprintf(json, sizeof json,
             "{\"kafka\":{\"bootstrap\":\"%s\",\"topics\":[\"%s\"],\"group\":\"%s-sasl\",\"security_protocol\":\"SASL_PLAINTEXT\","
             "\"sasl_mechanism\":\"SCRAM-SHA-512\",\"sasl_username\":\"hievc\",\"sasl_password\":\"wrong\"}}",
             sasl, topic, topic);
    EXPECT(HIEVC_OK, hievc_config_from_json(json, &cfg, &E));
    EXPECT(HIEVC_OK, hievc_listener_new(cfg, opts, &l, &E));
    hievc_status st = HIEVC_NO_EVENT;
    for (int i = 0; i < 15 && st == HIEVC_NO_EVENT; i++) {
        ev = NULL;
        st = hievc_listener_poll(l, 2000, &ev, &E);
        if (st == HIEVC_OK) hievc_event_free(ev);
        if (st != HIEVC_NO_EVENT && E) CHECK(hievc_error_message(E) != NULL);
        hievc_error_free(E);
        E = NULL;
    }
    CHECK(st == HIEVC_UNAUTHORIZED || st == HIEVC_KAFKA);
    hievc_listener_close(l, NULL);
    hievc_listener_free(l);
    hievc_config_free(cfg);
}

/* Polls until an event or a failure: the status, with the event acknowledged and freed. The
 * error's message, if any, is copied to msg. */
static hievc_status poll_one(hievc_listener *l, int tries, char *msg, size_t msg_len) {
    hievc_status st = HIEVC_NO_EVENT;
    msg[0] = '\0';
    for (int i = 0; i < tries && st == HIEVC_NO_EVENT; i++) {
        hievc_encounter_event *ev = NULL;
        hievc_error *err = NULL;
        st = hievc_listener_poll(l, 2000, &ev, &err);
        if (st == HIEVC_OK) {
            CHECK(hievc_event_ack(ev, 0, NULL) == HIEVC_OK);
            hievc_event_free(ev);
        }
        if (err && hievc_error_message(err)) snprintf(msg, msg_len, "%s", hievc_error_message(err));
        hievc_error_free(err);
    }
    return st;
}

/* A listener from a [kafka] JSON config over TLS: the status of its first poll. */
static hievc_status tls_listener(const char *kafka_json, char *msg, size_t msg_len) {
    char json[2048];
    snprintf(json, sizeof json, "{\"kafka\":%s}", kafka_json);
    hievc_config *cfg = NULL;
    hievc_listener *l = NULL;
    hievc_status st = hievc_config_from_json(json, &cfg, &E);
    if (st == HIEVC_OK) st = hievc_listener_new(cfg, "{\"metrics_interval_ms\":0,\"statistics_interval_ms\":0}", &l, &E);
    if (st == HIEVC_OK) {
        st = poll_one(l, 20, msg, msg_len);
        hievc_listener_close(l, NULL);
    } else if (E && hievc_error_message(E)) {
        snprintf(msg, msg_len, "%s", hievc_error_message(E));
    }
    hievc_error_free(E);
    E = NULL;
    hievc_listener_free(l);
    hievc_config_free(cfg);
    return st;
}

/* The C ABI's config over the TLS listeners of tests/services/kafka.sh. */
static void test_kafka_tls(void) {
    const char *bootstrap = getenv("HIEVC_KAFKA_BOOTSTRAP");
    const char *sasl_ssl = getenv("HIEVC_KAFKA_SASL_SSL_BOOTSTRAP");
    const char *mtls = getenv("HIEVC_KAFKA_MTLS_BOOTSTRAP");
    const char *dir = getenv("HIEVC_KAFKA_TLS_DIR");
    if (!bootstrap || !*bootstrap || !sasl_ssl || !*sasl_ssl || !mtls || !*mtls || !dir || !*dir) {
        service_missing("kafka TLS", "HIEVC_KAFKA_BOOTSTRAP, HIEVC_KAFKA_SASL_SSL_BOOTSTRAP, HIEVC_KAFKA_MTLS_BOOTSTRAP or HIEVC_KAFKA_TLS_DIR is not set");
        return;
    }
    SECTION("kafka TLS: SASL_SSL, mutual TLS, a CA that did not sign the broker");
    char topic[128], kafka[1536], msg[2048];
    snprintf(topic, sizeof topic, "hievc-ffi-c-tls-%d-%ld", (int)getpid(), (long)time(NULL));
    CHECK(produce(bootstrap, topic, 1, 1));

    /* SASL_SSL with SCRAM, trusting `ca` (a file of the TLS directory). */
#define SASL_SSL_JSON(group, ca)                                                                        \
    snprintf(kafka, sizeof kafka,                                                                       \
             "{\"bootstrap\":\"%s\",\"topics\":[\"%s\"],\"group\":\"%s-" group "\",\"security_protocol\":\"SASL_SSL\"," \
             "\"sasl_mechanism\":\"SCRAM-SHA-512\",\"sasl_username\":\"hievc\",\"sasl_password\":\"hievc-secret\"," \
             "\"ssl_ca_location\":\"%s/" ca "\"}",                                                     \
             sasl_ssl, topic, topic, dir)
    /* Mutual TLS with the client certificate and its key, encrypted with `password`. */
#define MTLS_JSON(group, password)                                                                      \
    snprintf(kafka, sizeof kafka,                                                                       \
             "{\"bootstrap\":\"%s\",\"topics\":[\"%s\"],\"group\":\"%s-" group "\",\"security_protocol\":\"SSL\"," \
             "\"ssl_ca_location\":\"%s/ca.pem\",\"ssl_certificate_location\":\"%s/client.pem\","         \
             "\"ssl_key_location\":\"%s/client.key\",\"ssl_key_password\":\"" password "\"}",           \
             mtls, topic, topic, dir, dir, dir)

    SASL_SSL_JSON("sasl-ssl", "ca.pem");
    EXPECT(HIEVC_OK, tls_listener(kafka, msg, sizeof msg));

    MTLS_JSON("mtls", "hievc-key-secret");
    EXPECT(HIEVC_OK, tls_listener(kafka, msg, sizeof msg));

    /* The wrong CA: HIEVC_TLS from poll, at once, saying why; no password in the message. */
    SASL_SSL_JSON("wrong-ca", "other-ca.pem");
    time_t t0 = time(NULL);
    EXPECT(HIEVC_TLS, tls_listener(kafka, msg, sizeof msg));
    CHECK(time(NULL) - t0 < 15);
    CHECK(strstr(msg, "certificate was refused") != NULL);
    CHECK(strstr(msg, "hievc-secret") == NULL);
    CHECK(strcmp(hievc_status_name(HIEVC_TLS), "tls") == 0);

    /* The key's password wrong: refused when the listener is made (configuration). */
    MTLS_JSON("bad-key", "not-it-4242");
    EXPECT(HIEVC_CONFIG, tls_listener(kafka, msg, sizeof msg));
    CHECK(strstr(msg, "ssl.key") != NULL);
    CHECK(strstr(msg, "not-it-4242") == NULL);
#undef SASL_SSL_JSON
#undef MTLS_JSON
}

int main(void) {
    main_thread = pthread_self();
    test_memory_callback();
    test_memory_poll();
    test_stop_wakes_poller();
    test_kafka();
    test_kafka_tls();
    CHECK(hievc_shutdown(NULL) == HIEVC_OK);
    return finish("test_listener");
}
