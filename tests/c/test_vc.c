/* libhievc C suite, part 4: the embedded sandbox (in-process HIE emulator), Jitsi, the
 * Notification API and the VC workflow — VCI and VCE end to end: schedule, book, check-in
 * publishing the Encounter, the listener starting the session (callback, ready-made VC handler
 * and pull), notifications recorded with the right patient ids, finish and session end; a
 * failure mid-flow naming its step; then the same over real Kafka (HIEVC_KAFKA_BOOTSTRAP). */
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static hievc_error *E = NULL;

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A heap copy of `s` with every `from` replaced by `to`. */
static char *replace(const char *s, const char *from, const char *to) {
    size_t n = 0, fl = strlen(from), tl = strlen(to);
    for (const char *p = strstr(s, from); p; p = strstr(p + fl, from)) n++;
    char *out = malloc(strlen(s) + n * (tl + 1) + 1);
    char *w = out;
    const char *r = s;
    for (const char *p = strstr(r, from); p; p = strstr(r, from)) {
        memcpy(w, r, (size_t)(p - r));
        w += p - r;
        memcpy(w, to, tl);
        w += tl;
        r = p + fl;
    }
    strcpy(w, r);
    return out;
}

static char *vc_file(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "vc/%s.json", name);
    return data_file(path);
}

/* The value of "key":"..." in a JSON text (first occurrence), copied into buf. */
static const char *json_str(const char *json, const char *key, char *buf, size_t len) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = json ? strstr(json, pat) : NULL;
    buf[0] = '\0';
    if (!p) return buf;
    p += strlen(pat);
    size_t i = 0;
    while (p[i] && p[i] != '"' && i + 1 < len) {
        buf[i] = p[i];
        i++;
    }
    buf[i] = '\0';
    return buf;
}

static const char *PRACTITIONER = "{\"role\":\"practitioner\",\"id\":\"prac-ffi\",\"name\":\"DR AMINAH BINTI YUSOF\"}";

typedef struct {
    pthread_mutex_t lock;
    int started;
    char last[8192];
    int on_main;
} started_t;

static pthread_t main_thread;

static void on_started(void *userdata, const char *json) {
    started_t *s = userdata;
    pthread_mutex_lock(&s->lock);
    s->started++;
    snprintf(s->last, sizeof s->last, "%s", json);
    if (pthread_equal(pthread_self(), main_thread)) s->on_main++;
    pthread_mutex_unlock(&s->lock);
}

static int wait_started(started_t *s, int n, int timeout_ms) {
    for (int t = 0; t < timeout_ms; t += 20) {
        pthread_mutex_lock(&s->lock);
        int done = s->started >= n;
        pthread_mutex_unlock(&s->lock);
        if (done) return 1;
        sleep_ms(20);
    }
    return 0;
}

static int count(const char *haystack, const char *needle) {
    int n = 0;
    for (const char *p = haystack ? strstr(haystack, needle) : NULL; p; p = strstr(p + 1, needle)) n++;
    return n;
}

typedef struct {
    hievc_sandbox *sb;
    hievc_config *cfg;
    hievc_client *client;
    hievc_jitsi *jitsi;
    hievc_notifier *notifier;
    hievc_vc *vc;
} world_t;

static int world_up(world_t *w, const char *sandbox_options) {
    memset(w, 0, sizeof *w);
    EXPECT(HIEVC_OK, hievc_sandbox_start(sandbox_options, &w->sb, &E));
    if (!w->sb) return 0;
    CHECK(strncmp(hievc_sandbox_url(w->sb), "http://127.0.0.1:", 17) == 0);
    CHECK(CONTAINS(hievc_sandbox_fhir_base(w->sb), "/fhir"));
    EXPECT(HIEVC_OK, hievc_sandbox_config(w->sb, &w->cfg, &E));
    EXPECT(HIEVC_OK, hievc_client_new(w->cfg, &w->client, &E));
    EXPECT(HIEVC_OK, hievc_jitsi_new(w->cfg, &w->jitsi, &E));
    EXPECT(HIEVC_OK, hievc_notifier_new(w->cfg, &w->notifier, &E));
    EXPECT(HIEVC_OK, hievc_vc_new(w->client, w->jitsi, w->notifier, w->cfg, NULL, &w->vc, &E));
    /* Reference data HIE would already hold: HealthcareService, Practitioner, Patients. */
    const char *seed[] = {"healthcare_service", "practitioner", "patient_1", "patient_2", "patient_3"};
    for (size_t i = 0; i < sizeof seed / sizeof seed[0]; i++) {
        char *r = vc_file(seed[i]);
        char *out = NULL;
        EXPECT(HIEVC_OK, hievc_client_update(w->client, r, NULL, &out, &E));
        hievc_string_free(out);
        free(r);
    }
    return w->vc != NULL;
}

static void world_down(world_t *w) {
    hievc_vc_free(w->vc);
    hievc_notifier_free(w->notifier);
    hievc_jitsi_free(w->jitsi);
    hievc_client_free(w->client);
    hievc_config_free(w->cfg);
    EXPECT(HIEVC_OK, hievc_sandbox_stop(w->sb, &E));
    EXPECT(HIEVC_OK, hievc_sandbox_stop(w->sb, &E)); /* idempotent */
    hievc_sandbox_free(w->sb);
}

static void schedule(world_t *w, const char *schedule_name, const char *slot_name, const char *token) {
    char *sch = vc_file(schedule_name), *slot = vc_file(slot_name);
    char *sch2 = replace(sch, "SESSION-TOKEN", token ? token : "SESSION-TOKEN");
    char *slot2 = replace(slot, "SESSION-TOKEN", token ? token : "SESSION-TOKEN");
    size_t n = strlen(slot2) + 3;
    char *slots = malloc(n);
    snprintf(slots, n, "[%s]", slot2);
    char *out = NULL;
    EXPECT(HIEVC_OK, hievc_vc_schedule(w->vc, sch2, slots, &out, &E));
    CHECK(CONTAINS(out, "\"kind\":\"transaction-response\""));
    CHECK(CONTAINS(out, "\"success\":true"));
    hievc_string_free(out);
    free(sch), free(slot), free(sch2), free(slot2), free(slots);
}

static void book(world_t *w, const char *appt_name, const char *token, const char *slot_id, const char *expect) {
    char *a = vc_file(appt_name);
    char *a2 = replace(a, "SESSION-TOKEN", token ? token : "SESSION-TOKEN");
    char *out = NULL;
    EXPECT(HIEVC_OK, hievc_vc_book(w->vc, a2, slot_id, &out, &E));
    CHECK(CONTAINS(out, expect));
    hievc_string_free(out);
    free(a), free(a2);
}

static void test_vci_vce_memory(void) {
    SECTION("sandbox in-process: VCI and VCE through the ready-made VC listener");
    world_t w;
    if (!world_up(&w, NULL)) return;
    char *out = NULL;

    /* VCI: schedule, book (slot quota 1 -> 0). */
    schedule(&w, "vci_schedule", "vci_slot", NULL);
    book(&w, "vci_appointment", NULL, "vci-slt-ffi", "\"slot\":{\"id\":\"vci-slt-ffi\",\"quota\":1,\"available\":0}");

    /* The listener on the sandbox's in-process broker, with the ready-made VC handler. */
    hievc_memory_broker *broker = NULL;
    EXPECT(HIEVC_OK, hievc_sandbox_broker(w.sb, &broker, &E));
    hievc_listener *l = NULL;
    EXPECT(HIEVC_OK, hievc_listener_new_memory(w.cfg, broker, "{\"metrics_interval_ms\":0}", &l, &E));
    started_t st;
    memset(&st, 0, sizeof st);
    pthread_mutex_init(&st.lock, NULL);
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_listener_start_vc(l, w.vc, "{\"role\":\"nurse\",\"id\":\"x\",\"name\":\"y\"}", on_started, &st, &E));
    EXPECT(HIEVC_OK, hievc_listener_start_vc(l, w.vc, PRACTITIONER, on_started, &st, &E));

    /* The patient checks in: HIE creates the Encounter with a new session token and publishes it. */
    EXPECT(HIEVC_OK, hievc_sandbox_check_in(w.sb, "vci-app-ffi", NULL, &out, &E));
    char enc_id[128], token[256];
    json_str(out, "encounterId", enc_id, sizeof enc_id);
    json_str(out, "token", token, sizeof token);
    CHECK(CONTAINS(out, "\"created\":true"));
    CHECK(CONTAINS(out, "\"vcType\":\"VCI\""));
    CHECK(enc_id[0] && token[0]);
    hievc_string_free(out);
    CHECK(wait_started(&st, 1, 15000));
    pthread_mutex_lock(&st.lock);
    CHECK(CONTAINS(st.last, "\"notified\":[\"950728106051\"]"));
    CHECK(CONTAINS(st.last, "\"practitionerJoin\":{\"role\":\"practitioner\""));
    CHECK(CONTAINS(st.last, token));
    CHECK(CONTAINS(st.last, "\"activatedNow\":true"));
    CHECK(st.on_main == 0);
    pthread_mutex_unlock(&st.lock);

    /* Checking in again publishes nothing new; the Encounter was delivered once. */
    EXPECT(HIEVC_OK, hievc_sandbox_check_in(w.sb, "vci-app-ffi", NULL, &out, &E));
    CHECK(CONTAINS(out, "\"created\":false"));
    hievc_string_free(out);
    EXPECT(HIEVC_OK, hievc_sandbox_notifications(w.sb, &out, &E));
    CHECK(count(out, "950728106051") == 1);
    hievc_string_free(out);

    /* Finish: Encounter PUT finished, session ended; again: nothing to do. */
    EXPECT(HIEVC_OK, hievc_vc_finish(w.vc, enc_id, &out, &E));
    CHECK(CONTAINS(out, "\"written\":{\"status\":200"));
    CHECK(CONTAINS(out, "\"ended\":\"ended\""));
    hievc_string_free(out);
    EXPECT(HIEVC_OK, hievc_vc_finish(w.vc, enc_id, &out, &E));
    CHECK(CONTAINS(out, "\"written\":null") && CONTAINS(out, "\"ended\":null"));
    hievc_string_free(out);
    EXPECT(HIEVC_OK, hievc_sandbox_resource(w.sb, "Encounter", enc_id, &out, &E));
    CHECK(CONTAINS(out, "\"status\":\"finished\""));
    hievc_string_free(out);

    /* VCE: a session token first, then Schedule/Slot/Appointments carrying it. */
    EXPECT(HIEVC_OK, hievc_vc_create_session(w.vc, &out, &E));
    char vce_token[256];
    json_str(out, "token", vce_token, sizeof vce_token);
    CHECK(vce_token[0] != '\0');
    hievc_string_free(out);
    schedule(&w, "vce_schedule", "vce_slot", vce_token);
    book(&w, "vce_appointment_1", vce_token, "vce-slt-ffi", "\"available\":9");
    book(&w, "vce_appointment_2", vce_token, "vce-slt-ffi", "\"available\":8");
    char vce_enc[2][128];
    for (int i = 0; i < 2; i++) {
        char appt[64];
        snprintf(appt, sizeof appt, "vce-app-ffi-%d", i + 1);
        EXPECT(HIEVC_OK, hievc_sandbox_check_in(w.sb, appt, NULL, &out, &E));
        CHECK(CONTAINS(out, vce_token)); /* HIE reuses the Appointment's token */
        json_str(out, "encounterId", vce_enc[i], sizeof vce_enc[i]);
        hievc_string_free(out);
        CHECK(wait_started(&st, 2 + i, 15000));
    }
    /* The first start notified both patients of the session; the second nobody new. */
    pthread_mutex_lock(&st.lock);
    CHECK(CONTAINS(st.last, "\"notified\":[]"));
    CHECK(CONTAINS(st.last, "\"alreadyNotified\":[\""));
    pthread_mutex_unlock(&st.lock);
    EXPECT(HIEVC_OK, hievc_sandbox_notifications(w.sb, &out, &E));
    CHECK(count(out, "880314085523") == 1 && count(out, "910605145678") == 1);
    hievc_string_free(out);
    for (int i = 0; i < 2; i++) {
        EXPECT(HIEVC_OK, hievc_vc_finish(w.vc, vce_enc[i], &out, &E));
        CHECK(CONTAINS(out, "\"status\":200"));
        hievc_string_free(out);
    }
    EXPECT(HIEVC_OK, hievc_sandbox_jitsi_sessions(w.sb, &out, &E));
    CHECK(CONTAINS(out, vce_token) && CONTAINS(out, "\"endedAt\":\""));
    hievc_string_free(out);

    EXPECT(HIEVC_OK, hievc_listener_close(l, &E));
    hievc_listener_free(l);
    hievc_memory_broker_free(broker);
    pthread_mutex_destroy(&st.lock);

    /* A failure mid-flow names its step and what was done; the retry resumes. */
    SECTION("sandbox: Notification API down mid-flow, then resumed");
    char *a = vc_file("vci_appointment");
    char *a2 = replace(a, "vci-app-ffi", "vci-app-ffi-2");
    EXPECT(HIEVC_OK, hievc_vc_book(w.vc, a2, NULL, &out, &E)); /* slot-less booking: a PUT */
    CHECK(CONTAINS(out, "\"outcome\":null"));
    hievc_string_free(out);
    free(a), free(a2);
    EXPECT(HIEVC_OK, hievc_sandbox_check_in(w.sb, "vci-app-ffi-2", NULL, &out, &E));
    char *enc_json = NULL;
    {
        /* The Encounter as HIE stored it. */
        char id2[128];
        json_str(out, "encounterId", id2, sizeof id2);
        hievc_string_free(out);
        EXPECT(HIEVC_OK, hievc_sandbox_resource(w.sb, "Encounter", id2, &enc_json, &E));
    }
    EXPECT(HIEVC_OK, hievc_sandbox_set_faults(w.sb, "notify", "{\"down\":true}", &E));
    EXPECT_KEEP(HIEVC_TRANSPORT, hievc_vc_start(w.vc, enc_json, PRACTITIONER, NULL, &out, &E));
    CHECK(hievc_error_step(E) && strcmp(hievc_error_step(E), "notify") == 0);
    CHECK(CONTAINS(hievc_error_json(E), "\"completedSteps\":[\"practitioner_join\",\"activate\""));
    hievc_error_free(E);
    E = NULL;
    EXPECT(HIEVC_OK, hievc_sandbox_set_faults(w.sb, "notify", "{}", &E));
    EXPECT(HIEVC_OK, hievc_vc_start(w.vc, enc_json, PRACTITIONER, NULL, &out, &E));
    CHECK(CONTAINS(out, "\"notified\":[\"950728106051\"]"));
    CHECK(CONTAINS(out, "\"activatedNow\":false")); /* done before the failure */
    hievc_string_free(out);
    EXPECT(HIEVC_OK, hievc_vc_start(w.vc, enc_json, PRACTITIONER, "[]", &out, &E));
    CHECK(CONTAINS(out, "\"notified\":[]")); /* idempotent */
    hievc_string_free(out);
    hievc_string_free(enc_json);

    /* Jitsi and the notifier directly. */
    SECTION("sandbox: Jitsi and Notification API directly");
    CHECK(strcmp(hievc_jitsi_kind(w.jitsi), "hie-rest") == 0);
    EXPECT(HIEVC_OK, hievc_jitsi_create_session(w.jitsi, &out, &E));
    char t2[256];
    json_str(out, "token", t2, sizeof t2);
    hievc_string_free(out);
    EXPECT(HIEVC_OK, hievc_jitsi_join(w.jitsi, t2, "{\"role\":\"patient\",\"id\":\"950728106051\",\"name\":\"SITI\",\"email\":\"siti@example.org\"}", &out, &E));
    CHECK(CONTAINS(out, "\"role\":\"patient\"") && CONTAINS(out, "\"url\":\"https://"));
    hievc_string_free(out);
    EXPECT(HIEVC_OK, hievc_jitsi_activate(w.jitsi, t2, &E));
    EXPECT(HIEVC_OK, hievc_jitsi_end(w.jitsi, t2, &out, &E));
    CHECK(CONTAINS(out, "\"outcome\":\"ended\""));
    hievc_string_free(out);
    EXPECT(HIEVC_OK, hievc_jitsi_end(w.jitsi, t2, &out, &E));
    CHECK(CONTAINS(out, "\"outcome\":\"not_running\"") || CONTAINS(out, "\"outcome\":\"ended\""));
    hievc_string_free(out);
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_jitsi_join(w.jitsi, t2, "{\"role\":\"patient\",\"id\":\"p\"}", &out, &E));
    EXPECT(HIEVC_INVALID_JSON, hievc_jitsi_join(w.jitsi, t2, "{\"role\":", &out, &E));
    EXPECT(HIEVC_INVALID_INPUT, hievc_jitsi_join(w.jitsi, t2, "{\"role\":\"patient\",\"id\":\" \",\"name\":\"x\"}", &out, &E));
    EXPECT(HIEVC_OK, hievc_notifier_login(w.notifier, &E));
    EXPECT(HIEVC_OK, hievc_notifier_send(w.notifier, "Reminder", "Your session is tomorrow", "[\"770921016789\"]", &out, &E));
    CHECK(CONTAINS(out, "\"status\":2"));
    hievc_string_free(out);
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_notifier_send(w.notifier, "t", "b", "{\"ids\":1}", &out, &E));
    EXPECT(HIEVC_OK, hievc_sandbox_set_faults(w.sb, "notify", "{\"fail_next\":10,\"fail_status\":503}", &E));
    EXPECT(HIEVC_SERVICE_UNAVAILABLE, hievc_notifier_send(w.notifier, "t", "b", "[\"770921016789\"]", &out, &E));
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_sandbox_set_faults(w.sb, "ldap", "{}", &E));
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_sandbox_set_faults(w.sb, "notify", "{\"slow\":true}", &E));
    EXPECT(HIEVC_OK, hievc_sandbox_set_faults(w.sb, "notify", "{}", &E));
    EXPECT(HIEVC_OK, hievc_sandbox_notifications(w.sb, &out, &E));
    CHECK(count(out, "770921016789") == 1);
    hievc_string_free(out);

    /* Pull mode on the sandbox's broker: a fresh group sees every published Encounter. */
    SECTION("sandbox: pull the published Encounters");
    EXPECT(HIEVC_OK, hievc_sandbox_broker(w.sb, &broker, &E));
    EXPECT(HIEVC_OK, hievc_config_set(w.cfg, "kafka.group", "ffi-pull", &E));
    EXPECT(HIEVC_OK, hievc_listener_new_memory(w.cfg, broker, NULL, &l, &E));
    int pulled = 0;
    for (int i = 0; i < 20 && pulled < 4; i++) {
        hievc_encounter_event *ev = NULL;
        if (hievc_listener_poll(l, 1000, &ev, NULL) != HIEVC_OK) continue;
        CHECK(hievc_event_vc_token(ev) != NULL);
        EXPECT(HIEVC_OK, hievc_event_ack(ev, 0, &E));
        hievc_event_free(ev);
        pulled++;
    }
    CHECK(pulled == 4); /* VCI, 2 x VCE, VCI-2 */
    EXPECT(HIEVC_OK, hievc_listener_close(l, &E));
    hievc_listener_free(l);
    hievc_memory_broker_free(broker);

    /* Misuse. */
    SECTION("sandbox, jitsi, notifier, vc: misuse");
    out = NULL;
    char *sch = vc_file("vci_schedule");
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_vc_new(NULL, w.jitsi, w.notifier, NULL, NULL, &w.vc, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_vc_finish(w.vc, NULL, &out, &E));
    EXPECT(HIEVC_INVALID_INPUT, hievc_vc_book(w.vc, "{\"resourceType\":\"Patient\",\"id\":\"p\"}", NULL, &out, &E));
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_vc_schedule(w.vc, sch, "{}", &out, &E));
    EXPECT(HIEVC_INVALID_INPUT, hievc_vc_schedule(w.vc, sch, "[{\"resourceType\":\"Patient\",\"id\":\"p\"}]", &out, &E));
    EXPECT(HIEVC_DECODE, hievc_vc_schedule(w.vc, "{\"resourceType\":\"Schedule\",\"id\":\"s\"}", "[]", &out, &E));
    free(sch);
    EXPECT(HIEVC_INVALID_JSON, hievc_vc_start(w.vc, "{", PRACTITIONER, NULL, &out, &E));
    EXPECT(HIEVC_NOT_FOUND, hievc_sandbox_check_in(w.sb, "no-such-appointment", NULL, &out, &E));
    EXPECT(HIEVC_NOT_FOUND, hievc_sandbox_resource(w.sb, "Encounter", "nope", &out, &E));
    EXPECT(HIEVC_NULL_ARGUMENT, hievc_jitsi_create_session(NULL, &out, &E));
    CHECK(hievc_jitsi_kind(NULL) == NULL && hievc_sandbox_url(NULL) == NULL);
    CHECK(out == NULL);
    world_down(&w);

    hievc_config *empty = NULL;
    EXPECT(HIEVC_OK, hievc_config_new(&empty, &E));
    hievc_jitsi *j = NULL;
    hievc_notifier *n = NULL;
    EXPECT(HIEVC_CONFIG, hievc_jitsi_new(empty, &j, &E));
    EXPECT(HIEVC_CONFIG, hievc_notifier_new(empty, &n, &E));
    CHECK(j == NULL && n == NULL);
    hievc_config_free(empty);
    hievc_sandbox *sb = NULL;
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_sandbox_start("{\"payload\":\"xml\"}", &sb, &E));
    EXPECT(HIEVC_INVALID_ARGUMENT, hievc_sandbox_start("{\"port\":1}", &sb, &E));
    EXPECT(HIEVC_OK, hievc_sandbox_start(NULL, &sb, &E));
    EXPECT(HIEVC_OK, hievc_sandbox_stop(sb, &E));
    EXPECT(HIEVC_CLOSED, hievc_sandbox_check_in(sb, "x", NULL, &out, &E));
    EXPECT(HIEVC_CLOSED, hievc_sandbox_config(sb, &empty, &E));
    CHECK(hievc_sandbox_url(sb) != NULL);
    hievc_sandbox_free(sb);
    hievc_sandbox_free(NULL);
    hievc_vc_free(NULL);
    hievc_jitsi_free(NULL);
    hievc_notifier_free(NULL);
}

static void test_vci_kafka(void) {
    const char *bootstrap = getenv("HIEVC_KAFKA_BOOTSTRAP");
    if (!bootstrap || !*bootstrap) {
        service_missing("sandbox over Kafka", "HIEVC_KAFKA_BOOTSTRAP is not set");
        return;
    }
    SECTION("sandbox publishing to real Kafka: VCI through the ready-made VC listener");
    char opts[512], topic[128];
    snprintf(topic, sizeof topic, "hievc-ffi-vc-%d-%ld", (int)getpid(), (long)time(NULL));
    snprintf(opts, sizeof opts, "{\"kafka_bootstrap\":\"%s\",\"topic\":\"%s\",\"payload\":\"bundle\"}", bootstrap, topic);
    world_t w;
    if (!world_up(&w, opts)) return;
    hievc_memory_broker *b = NULL;
    EXPECT(HIEVC_INVALID_STATE, hievc_sandbox_broker(w.sb, &b, &E));
    EXPECT(HIEVC_OK, hievc_config_set(w.cfg, "kafka.bootstrap", bootstrap, &E));
    EXPECT(HIEVC_OK, hievc_config_set(w.cfg, "kafka.group", topic, &E));
    hievc_listener *l = NULL;
    EXPECT(HIEVC_OK, hievc_listener_new(w.cfg, "{\"metrics_interval_ms\":0,\"statistics_interval_ms\":0}", &l, &E));
    started_t st;
    memset(&st, 0, sizeof st);
    pthread_mutex_init(&st.lock, NULL);
    EXPECT(HIEVC_OK, hievc_listener_start_vc(l, w.vc, PRACTITIONER, on_started, &st, &E));
    schedule(&w, "vci_schedule", "vci_slot", NULL);
    book(&w, "vci_appointment", NULL, "vci-slt-ffi", "\"available\":0");
    char *out = NULL;
    EXPECT(HIEVC_OK, hievc_sandbox_check_in(w.sb, "vci-app-ffi", NULL, &out, &E));
    CHECK(CONTAINS(out, "\"delivery\":{\"topic\":\"hievc-ffi-vc-"));
    char enc_id[128];
    json_str(out, "encounterId", enc_id, sizeof enc_id);
    hievc_string_free(out);
    CHECK(wait_started(&st, 1, 60000));
    pthread_mutex_lock(&st.lock);
    CHECK(CONTAINS(st.last, "\"notified\":[\"950728106051\"]"));
    pthread_mutex_unlock(&st.lock);
    EXPECT(HIEVC_OK, hievc_listener_close(l, &E));
    hievc_listener_free(l);
    EXPECT(HIEVC_OK, hievc_vc_finish(w.vc, enc_id, &out, &E));
    CHECK(CONTAINS(out, "\"ended\":\"ended\""));
    hievc_string_free(out);
    pthread_mutex_destroy(&st.lock);
    world_down(&w);
}

int main(void) {
    main_thread = pthread_self();
    test_vci_vce_memory();
    test_vci_kafka();
    CHECK(hievc_shutdown(NULL) == HIEVC_OK);
    return finish("test_vc");
}
