/* The behaviour spec's client and vc operations on the C ABI: an embedded sandbox, a client,
 * Jitsi provider, notifier and VC workflow from its settings and the case's, the seed stored,
 * then the steps, each {"result"} or {"error"}. Included by behaviour_ops.h. */
#ifndef HIEVC_BEHAVIOUR_SCENARIO_H
#define HIEVC_BEHAVIOUR_SCENARIO_H

/* Longest a step may take. */
#define STEP_LIMIT_MS 30000

typedef struct {
    hievc_sandbox *sb;
    hievc_config *cfg;
    hievc_client *hie;
    hievc_jitsi *jitsi;
    hievc_notifier *notifier;
    hievc_vc *vc;
    cJSON *stats;       /* the sandbox's counters at the previous stats step */
    char *token;        /* of the last create_session */
    char *encounter;    /* the Encounter of the last check_in, FHIR JSON */
    char *encounter_id; /* and its id */
} Scenario;

static void scenario_free(Scenario *s) {
    hievc_vc_free(s->vc);
    hievc_notifier_free(s->notifier);
    hievc_jitsi_free(s->jitsi);
    hievc_client_free(s->hie);
    hievc_config_free(s->cfg);
    hievc_sandbox_free(s->sb);
    cJSON_Delete(s->stats);
    free(s->token);
    free(s->encounter);
    free(s->encounter_id);
}

/* A resource document, read strictly (one that does not read, or is not a `type` when
 * given, fails the case): the resource as the SDK writes it (free with hievc_string_free). */
static char *strict_resource(Ctx *c, const cJSON *doc, const char *what, const char *type) {
    Bytes b;
    if (!check_keys(c, doc, what, DOCUMENT_KEYS) || !document(c, doc, what, &b)) return NULL;
    char *out = NULL;
    hievc_error *err = NULL;
    hievc_status st = read_bytes(&b, 0, 0, 1, &out, &err);
    bytes_free(&b);
    if (st != HIEVC_OK) {
        fail(c, "%s does not read strictly: %s", what, why(err));
        hievc_error_free(err);
        return NULL;
    }
    if (type) {
        cJSON *r = cJSON_Parse(out);
        const cJSON *t = member(r, "resourceType");
        if (!cJSON_IsString(t) || strcmp(t->valuestring, type) != 0) {
            fail(c, "%s is a %s, not a %s", what, cJSON_IsString(t) ? t->valuestring : "?", type);
            hievc_string_free(out);
            out = NULL;
        }
        cJSON_Delete(r);
    }
    return out;
}

/* A setting's value as the text hievc_config_set takes (parsed as environment values are). */
static int setting_text(const cJSON *v, char *buf, size_t size) {
    if (cJSON_IsString(v))
        snprintf(buf, size, "%s", v->valuestring);
    else if (cJSON_IsBool(v))
        snprintf(buf, size, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble)
        snprintf(buf, size, "%lld", (long long)v->valuedouble);
    else if (cJSON_IsNumber(v))
        snprintf(buf, size, "%.17g", v->valuedouble);
    else
        return 0;
    return 1;
}

/* The sandbox, its settings with the case's on top, and everything built from them. */
static int scenario_start(Ctx *c, Scenario *s, const cJSON *in) {
    static const char *const sandbox_keys[] = {"payload", "validate", "check_references", "require_profile_claim",
                                               "allow_delete", NULL};
    const cJSON *sandbox = member(in, "sandbox"), *settings = member(in, "settings");
    if (!check_keys(c, sandbox, "sandbox", sandbox_keys)) return 0;
    char *opts = sandbox ? cJSON_PrintUnformatted(sandbox) : NULL;
    hievc_error *err = NULL;
    hievc_status st = hievc_sandbox_start(opts, &s->sb, &err);
    cJSON_free(opts);
    if (st != HIEVC_OK || hievc_sandbox_config(s->sb, &s->cfg, &err) != HIEVC_OK) {
        fail(c, "sandbox: %s", why(err));
        hievc_error_free(err);
        return 0;
    }
    if (settings && !cJSON_IsObject(settings)) return !!fail(c, "settings is {\"section\": {\"key\": value}}");
    for (const cJSON *sec = settings ? settings->child : NULL; sec; sec = sec->next) {
        if (!cJSON_IsObject(sec)) return !!fail(c, "settings.%s is an object", sec->string);
        for (const cJSON *k = sec->child; k; k = k->next) {
            char key[256], value[512];
            snprintf(key, sizeof key, "%s.%s", sec->string, k->string);
            if (!setting_text(k, value, sizeof value)) return !!fail(c, "settings.%s: a string, number or boolean", key);
            if (hievc_config_set(s->cfg, key, value, &err) != HIEVC_OK) {
                fail(c, "settings.%s: %s", key, why(err));
                hievc_error_free(err);
                return 0;
            }
        }
    }
    if (hievc_client_new(s->cfg, &s->hie, &err) != HIEVC_OK || hievc_jitsi_new(s->cfg, &s->jitsi, &err) != HIEVC_OK ||
        hievc_notifier_new(s->cfg, &s->notifier, &err) != HIEVC_OK ||
        hievc_vc_new(s->hie, s->jitsi, s->notifier, s->cfg, NULL, &s->vc, &err) != HIEVC_OK) {
        fail(c, "client, Jitsi, notifier or workflow: %s", why(err));
        hievc_error_free(err);
        return 0;
    }
    return 1;
}

/* Each seed document PUT with the client; one that is not stored fails the case. */
static int scenario_seed(Ctx *c, Scenario *s, const cJSON *seed) {
    if (seed && !cJSON_IsArray(seed)) return !!fail(c, "seed is a list of documents");
    int i = 0;
    for (const cJSON *d = seed ? seed->child : NULL; d; d = d->next, i++) {
        char what[32];
        snprintf(what, sizeof what, "seed[%d]", i);
        char *text = strict_resource(c, d, what, NULL);
        if (!text) return 0;
        char *out = NULL;
        hievc_error *err = NULL;
        hievc_status st = hievc_client_update(s->hie, text, NULL, &out, &err);
        hievc_string_free(text);
        hievc_string_free(out);
        if (st != HIEVC_OK) fail(c, "%s was not stored: %s", what, why(err));
        hievc_error_free(err);
        if (failed(c)) return 0;
    }
    return 1;
}

static cJSON *sandbox_stats(Ctx *c, const Scenario *s) {
    char *out = NULL;
    hievc_error *err = NULL;
    return must(c, "hievc_sandbox_stats", hievc_sandbox_stats(s->sb, &out, &err), &out, &err);
}

/* The counters since the previous stats step (or the end of seeding). */
static cJSON *step_stats(Ctx *c, Scenario *s) {
    static const char *const fields[] = {"requests", "failed", "dropped", NULL};
    cJSON *now = sandbox_stats(c, s);
    if (!now) return NULL;
    cJSON *delta = cJSON_CreateObject();
    for (const cJSON *svc = now->child; svc; svc = svc->next) {
        cJSON *d = cJSON_AddObjectToObject(delta, svc->string);
        for (const char *const *f = fields; *f; f++)
            cJSON_AddNumberToObject(d, *f, metric(svc, *f) - metric(member(s->stats, svc->string), *f));
    }
    cJSON_Delete(s->stats);
    s->stats = now;
    return wrap("result", delta);
}

static cJSON *step_records(Ctx *c, const Scenario *s) {
    char *out = NULL;
    hievc_error *err = NULL;
    cJSON *notifications =
        must(c, "hievc_sandbox_notifications", hievc_sandbox_notifications(s->sb, &out, &err), &out, &err);
    out = NULL;
    err = NULL;
    cJSON *sessions = must(c, "hievc_sandbox_jitsi_sessions", hievc_sandbox_jitsi_sessions(s->sb, &out, &err), &out, &err);
    if (!notifications || !sessions) {
        cJSON_Delete(notifications);
        cJSON_Delete(sessions);
        return NULL;
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "notifications", notifications);
    cJSON_AddItemToObject(r, "jitsiSessions", sessions);
    return wrap("result", r);
}

/* `name=value&...`, each percent-encoded (RFC 3986 unreserved characters kept). */
static char *search_query(Ctx *c, const cJSON *params) {
    if (params && !cJSON_IsArray(params)) return fail(c, "params is a list of [name, value]");
    size_t cap = 16;
    for (const cJSON *p = params ? params->child : NULL; p; p = p->next) {
        const cJSON *k = cJSON_GetArrayItem(p, 0), *v = cJSON_GetArrayItem(p, 1);
        if (cJSON_GetArraySize(p) != 2 || !cJSON_IsString(k) || !cJSON_IsString(v))
            return fail(c, "a search parameter is [name, value], both strings");
        cap += 3 * (strlen(k->valuestring) + strlen(v->valuestring)) + 2;
    }
    char *q = malloc(cap), *w = q;
    if (!q) return fail(c, "out of memory");
    for (const cJSON *p = params ? params->child : NULL; p; p = p->next) {
        for (int part = 0; part < 2; part++) {
            if (part == 0 && w != q) *w++ = '&';
            if (part == 1) *w++ = '=';
            for (const unsigned char *ch = (const unsigned char *)cJSON_GetArrayItem(p, part)->valuestring; *ch; ch++) {
                if ((*ch >= 'A' && *ch <= 'Z') || (*ch >= 'a' && *ch <= 'z') || (*ch >= '0' && *ch <= '9') ||
                    strchr("-._~", *ch))
                    *w++ = (char)*ch;
                else
                    w += sprintf(w, "%%%02X", *ch);
            }
        }
    }
    *w = '\0';
    return q;
}

static int remember(char **slot, const cJSON *v) {
    free(*slot);
    *slot = cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
    return *slot != NULL;
}

/* check_in: the sandbox's check-in; a failing one fails the case. */
static cJSON *step_check_in(Ctx *c, Scenario *s, const cJSON *step) {
    const char *appointment = req_string(c, step, "appointment"), *patient = NULL;
    if (!appointment || !opt_string(c, step, "patient", &patient)) return NULL;
    char *out = NULL;
    hievc_error *err = NULL;
    char what[256];
    snprintf(what, sizeof what, "check-in of %s", appointment);
    cJSON *r = must(c, what, hievc_sandbox_check_in(s->sb, appointment, patient, &out, &err), &out, &err);
    if (!r) return NULL;
    free(s->encounter);
    s->encounter = cJSON_PrintUnformatted(member(r, "encounter"));
    if (!s->encounter || !remember(&s->encounter_id, member(r, "encounterId"))) {
        cJSON_Delete(r);
        return fail(c, "%s: no encounter and encounterId", what);
    }
    return wrap("result", r);
}

/* The VC steps that run the workflow on resources: schedule, book. */
static cJSON *step_schedule(Ctx *c, Scenario *s, const cJSON *step) {
    const cJSON *slots = member(step, "slots");
    if (!cJSON_IsArray(slots)) return fail(c, "slots is a list of documents");
    char *schedule = strict_resource(c, member(step, "schedule"), "schedule", "Schedule");
    /* The Slots as a JSON array of their written text. */
    size_t cap = 3, used = 0;
    char *array = malloc(cap);
    int i = 0;
    for (const cJSON *d = slots->child; d && array && schedule; d = d->next, i++) {
        char what[32];
        snprintf(what, sizeof what, "slots[%d]", i);
        char *slot = strict_resource(c, d, what, "Slot");
        if (!slot) break;
        size_t n = strlen(slot);
        char *bigger = realloc(array, cap + n + 1);
        if (bigger) {
            array = bigger;
            cap += n + 1;
            array[used++] = i ? ',' : '[';
            memcpy(array + used, slot, n);
            used += n;
        }
        hievc_string_free(slot);
        if (!bigger) {
            free(array);
            array = NULL;
        }
    }
    cJSON *r = NULL;
    if (array && schedule && !failed(c)) {
        if (used == 0) array[used++] = '[';
        array[used++] = ']';
        array[used] = '\0';
        char *out = NULL;
        hievc_error *err = NULL;
        r = outcome(c, "hievc_vc_schedule", hievc_vc_schedule(s->vc, schedule, array, &out, &err), &out, &err);
    } else if (!failed(c)) {
        fail(c, "out of memory");
    }
    free(array);
    hievc_string_free(schedule);
    return r;
}

static cJSON *step_book(Ctx *c, Scenario *s, const cJSON *step) {
    const char *slot = NULL;
    if (!opt_string(c, step, "slot", &slot)) return NULL;
    char *appointment = strict_resource(c, member(step, "appointment"), "appointment", "Appointment");
    if (!appointment) return NULL;
    char *out = NULL;
    hievc_error *err = NULL;
    cJSON *r = outcome(c, "hievc_vc_book", hievc_vc_book(s->vc, appointment, slot, &out, &err), &out, &err);
    hievc_string_free(appointment);
    return r;
}

/* The HIE client's steps: read, create, update, delete, search. */
static cJSON *step_client(Ctx *c, Scenario *s, const char *name, const cJSON *step) {
    char *out = NULL;
    hievc_error *err = NULL;
    hievc_status st;
    if (strcmp(name, "read") == 0 || strcmp(name, "delete") == 0 || strcmp(name, "search") == 0) {
        const char *type = req_string(c, step, "type");
        if (!type) return NULL;
        if (name[0] == 's') {
            char *query = search_query(c, member(step, "params"));
            if (!query) return NULL;
            st = hievc_client_search(s->hie, type, query, NULL, &out, &err);
            free(query);
            return outcome(c, "hievc_client_search", st, &out, &err);
        }
        const char *id = req_string(c, step, "id");
        if (!id) return NULL;
        st = name[0] == 'r' ? hievc_client_read(s->hie, type, id, NULL, &out, &err)
                            : hievc_client_delete(s->hie, type, id, NULL, &out, &err);
        return outcome(c, name, st, &out, &err);
    }
    const char *if_match = NULL;
    if (!opt_string(c, step, "if_match", &if_match)) return NULL;
    char *resource = strict_resource(c, member(step, "resource"), "resource", NULL);
    if (!resource) return NULL;
    cJSON *o = cJSON_CreateObject();
    if (if_match) cJSON_AddStringToObject(o, "if_match", if_match);
    char *opts = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    st = name[0] == 'c' ? hievc_client_create(s->hie, resource, opts, &out, &err)
                        : hievc_client_update(s->hie, resource, opts, &out, &err);
    cJSON_free(opts);
    hievc_string_free(resource);
    return outcome(c, name, st, &out, &err);
}

/* One step: {"result"} or {"error"}; NULL (runner error) when the step cannot run. */
static cJSON *scenario_step(Ctx *c, Scenario *s, const char *name, const cJSON *step) {
    char *out = NULL;
    hievc_error *err = NULL;
    if (strcmp(name, "faults") == 0) {
        const char *service = req_string(c, step, "service");
        const cJSON *faults = member(step, "faults");
        if (!service) return NULL;
        if (!cJSON_IsObject(faults)) return fail(c, "faults is the sandbox's fault JSON object");
        char *text = cJSON_PrintUnformatted(faults);
        hievc_status st = hievc_sandbox_set_faults(s->sb, service, text, &err);
        cJSON_free(text);
        if (st != HIEVC_OK) fail(c, "faults: %s", why(err));
        hievc_error_free(err);
        return failed(c) ? NULL : wrap("result", cJSON_CreateObject());
    }
    if (strcmp(name, "clear_faults") == 0) {
        if (hievc_sandbox_clear_faults(s->sb, &err) != HIEVC_OK) fail(c, "clear_faults: %s", why(err));
        hievc_error_free(err);
        return failed(c) ? NULL : wrap("result", cJSON_CreateObject());
    }
    if (strcmp(name, "stats") == 0) return step_stats(c, s);
    if (strcmp(name, "records") == 0) return step_records(c, s);
    if (strcmp(name, "create_session") == 0) {
        cJSON *r = outcome(c, "hievc_vc_create_session", hievc_vc_create_session(s->vc, &out, &err), &out, &err);
        const cJSON *token = member(member(r, "result"), "token");
        if (token && !remember(&s->token, token)) fail(c, "create_session gave no token");
        return r;
    }
    if (strcmp(name, "schedule") == 0) return step_schedule(c, s, step);
    if (strcmp(name, "book") == 0) return step_book(c, s, step);
    if (strcmp(name, "check_in") == 0) return step_check_in(c, s, step);
    if (strcmp(name, "start") == 0 || strcmp(name, "finish") == 0) {
        if (!s->encounter) return fail(c, "%s needs a check_in step before it", name);
        if (name[0] == 'f')
            return outcome(c, "hievc_vc_finish", hievc_vc_finish(s->vc, s->encounter_id, &out, &err), &out, &err);
        const cJSON *practitioner = member(step, "practitioner");
        if (!cJSON_IsObject(practitioner)) return fail(c, "practitioner is {\"role\", \"id\", \"name\"}");
        char *p = cJSON_PrintUnformatted(practitioner);
        cJSON *r = outcome(c, "hievc_vc_start", hievc_vc_start(s->vc, s->encounter, p, NULL, &out, &err), &out, &err);
        cJSON_free(p);
        return r;
    }
    return step_client(c, s, name, step);
}

/* `{{token}}` and `{{encounter}}` in every string of a step. */
static void substitute(cJSON *v, const char *from, const char *to) {
    for (cJSON *ch = v ? v->child : NULL; ch; ch = ch->next) {
        if (cJSON_IsString(ch) && strstr(ch->valuestring, from)) {
            size_t n = strlen(ch->valuestring) + strlen(to) * (strlen(ch->valuestring) / strlen(from) + 1) + 1;
            char *buf = malloc(n), *w = buf;
            if (!buf) continue;
            for (const char *r = ch->valuestring; *r;) {
                if (strncmp(r, from, strlen(from)) == 0) {
                    w += sprintf(w, "%s", to);
                    r += strlen(from);
                } else {
                    *w++ = *r++;
                }
            }
            *w = '\0';
            cJSON_SetValuestring(ch, buf);
            free(buf);
        } else if (cJSON_IsObject(ch) || cJSON_IsArray(ch)) {
            substitute(ch, from, to);
        }
    }
}

/* The keys of each step (besides "do"); the first nine are the client op's steps. */
static const struct {
    const char *name;
    const char *keys[3];
} STEPS[] = {
    {"read", {"type", "id"}},          {"create", {"resource"}},
    {"update", {"resource", "if_match"}}, {"delete", {"type", "id"}},
    {"search", {"type", "params"}},    {"faults", {"service", "faults"}},
    {"clear_faults", {NULL}},          {"stats", {NULL}},
    {"records", {NULL}},               {"create_session", {NULL}},
    {"schedule", {"schedule", "slots"}}, {"book", {"appointment", "slot"}},
    {"check_in", {"appointment", "patient"}}, {"start", {"practitioner"}},
    {"finish", {NULL}},
};
#define CLIENT_STEP_COUNT 9

static cJSON *op_scenario(Ctx *c, const cJSON *in, int vc) {
    static const char *const keys[] = {"sandbox", "settings", "seed", "steps", NULL};
    const cJSON *steps = member(in, "steps");
    if (!check_keys(c, in, "input", keys)) return NULL;
    if (!cJSON_IsArray(steps)) return fail(c, "steps is a list");
    Scenario s = {0};
    cJSON *results = NULL;
    if (!scenario_start(c, &s, in) || !scenario_seed(c, &s, member(in, "seed")) || !(s.stats = sandbox_stats(c, &s)))
        goto done;
    results = cJSON_CreateArray();
    int i = 0;
    for (const cJSON *st = steps->child; st; st = st->next, i++) {
        const char *name = req_string(c, st, "do");
        size_t k = 0, n = vc ? sizeof STEPS / sizeof STEPS[0] : CLIENT_STEP_COUNT;
        while (name && k < n && strcmp(STEPS[k].name, name) != 0) k++;
        if (!name || k == n) {
            fail(c, "steps[%d]: \"%s\" is not a step of the %s op", i, name ? name : "?", vc ? "vc" : "client");
            break;
        }
        const char *allowed[4] = {"do", STEPS[k].keys[0], STEPS[k].keys[0] ? STEPS[k].keys[1] : NULL, NULL};
        char what[64];
        snprintf(what, sizeof what, "steps[%d] (%s)", i, name);
        if (!check_keys(c, st, what, allowed)) break;
        cJSON *step = cJSON_Duplicate(st, 1);
        if (s.token) substitute(step, "{{token}}", s.token);
        if (s.encounter_id) substitute(step, "{{encounter}}", s.encounter_id);
        long long started = now_ms();
        cJSON *r = scenario_step(c, &s, name, step);
        cJSON_Delete(step);
        if (r && now_ms() - started > STEP_LIMIT_MS) fail(c, "%s took over %d ms", what, STEP_LIMIT_MS);
        if (!r || failed(c)) {
            char cause[sizeof c->error];
            snprintf(cause, sizeof cause, "%s", c->error);
            snprintf(c->error, sizeof c->error, "%s: %.1900s", what, cause[0] ? cause : "no result");
            cJSON_Delete(r);
            break;
        }
        cJSON_AddItemToArray(results, r);
    }
done:
    scenario_free(&s);
    if (failed(c)) {
        cJSON_Delete(results);
        return NULL;
    }
    return wrap("steps", results);
}

#endif
