/* libhievc C suite, part 5: the cross-language behaviour spec (tests/behaviour/<area>.json, format
 * and operations in its README) replayed through the public C ABI only — the same cases the
 * Rust, Python and Node suites replay, matched against the same JSON documents. Every failing
 * case of a file is reported by name; an unknown op, input key or matcher, and any runner
 * error, fail their case. Case format and documents: behaviour_spec.h; matching:
 * behaviour_match.h; the listener and scenario operations: behaviour_ops.h. */
#include "check.h"

#include "behaviour_spec.h"

#include "behaviour_match.h"

#include "behaviour_ops.h"

static const char *const AREAS[] = {"read", "validate", "listener", "client", "vc", NULL};

typedef cJSON *(*Op)(Ctx *, const cJSON *);

static cJSON *op_client(Ctx *c, const cJSON *in) { return op_scenario(c, in, 0); }
static cJSON *op_vc(Ctx *c, const cJSON *in) { return op_scenario(c, in, 1); }

static Op op_named(const char *op) {
    static const struct {
        const char *name;
        Op op;
    } ops[] = {
        {"read", op_read},       {"round_trip", op_round_trip}, {"validate", op_validate}, {"vc_view", op_vc_view},
        {"listen", op_listen},   {"client", op_client},         {"vc", op_vc},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(ops[i].name, op) == 0) return ops[i].op;
    return NULL;
}

/* Replays one file; returns its number of cases (-1: the file is refused) and counts the
 * failing ones. */
static int replay(const char *dir, const char *area, int *failing) {
    char path[1024], file[64];
    snprintf(path, sizeof path, "%s/%s.json", dir, area);
    snprintf(file, sizeof file, "%s.json", area);
    *failing = 0;
    char *text = read_file(path);
    cJSON *spec = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *format = member(spec, "format"), *name = member(spec, "area"), *cases = member(spec, "cases");
    if (!cJSON_IsNumber(format) || format->valuedouble != 1 || !cJSON_IsString(name) ||
        strcmp(name->valuestring, area) != 0 || !cJSON_IsArray(cases) || cJSON_GetArraySize(cases) == 0) {
        fprintf(stderr, "  FAIL %s: not a behaviour file of format 1 and area \"%s\" with cases\n", path, area);
        cJSON_Delete(spec);
        checks_run++;
        checks_failed++;
        *failing = 0;
        return -1;
    }
    const char *only = getenv("HIEVC_BEHAVIOUR_CASE");
    const char *show = getenv("HIEVC_BEHAVIOUR_SHOW");
    int n = 0;
    for (const cJSON *k = cases->child; k; k = k->next) {
        static const char *const case_keys[] = {"name", "op", "note", "input", "expect", NULL};
        Ctx ctx = {{0}};
        const char *case_name = cJSON_IsString(member(k, "name")) ? member(k, "name")->valuestring : "(unnamed)";
        if (only && *only && !strstr(case_name, only)) continue;
        n++;
        Problems p = {file, case_name, 0, 0};
        const char *op = NULL;
        cJSON *got = NULL;
        if (check_keys(&ctx, k, "case", case_keys) && (op = req_string(&ctx, k, "op")) != NULL) {
            Op f = op_named(op);
            if (f == NULL)
                fail(&ctx, "unknown op \"%s\"", op);
            else if (!cJSON_IsObject(member(k, "input")) || member(k, "expect") == NULL)
                fail(&ctx, "a case has an input object and an expect");
            else
                got = f(&ctx, member(k, "input"));
        }
        if (failed(&ctx) || got == NULL) {
            fprintf(stderr, "  FAIL %s: %s: %s\n", file, case_name, failed(&ctx) ? ctx.error : "no result");
            p.count++;
        } else {
            if (show && *show) {
                char *s = cJSON_PrintUnformatted(got);
                fprintf(stderr, "  %s: %s\n    %s\n", file, case_name, s ? s : "?");
                cJSON_free(s);
            }
            match(member(k, "expect"), got, "", &p);
        }
        cJSON_Delete(got);
        checks_run++;
        if (p.count > 0) {
            checks_failed++;
            (*failing)++;
        }
    }
    cJSON_Delete(spec);
    return n;
}

/* The runner itself: a wrong expectation is found, an unknown matcher fails, documents and
 * patches give the bytes the README describes. */
static void runner_self_test(void) {
    SECTION("the runner's own rules");
    cJSON *e = cJSON_Parse("{\"result\":{\"valid\":true,\"issues\":{\"$len\":0},\"n\":1,\"x\":null}}");
    cJSON *g = cJSON_Parse("{\"result\":{\"valid\":false,\"issues\":[1],\"n\":1.0,\"x\":false}}");
    Problems p = {"self-test", "", 0, 1};
    match(e, g, "", &p);
    CHECK(p.count == 3); /* valid, issues; n matches by value; false is present, not null */
    cJSON_Delete(e);
    cJSON_Delete(g);
    e = cJSON_Parse("{\"a\":{\"$nope\":1},\"b\":true}");
    g = cJSON_Parse("{\"a\":1,\"b\":1}");
    p.count = 0;
    match(e, g, "", &p);
    CHECK(p.count == 2); /* unknown matcher; a number is not a boolean */
    cJSON_Delete(e);
    cJSON_Delete(g);

    Ctx c = {{0}};
    Bytes b;
    cJSON *d = cJSON_Parse("{\"json\":{\"b\":1,\"a\":[1,2],\"c~/\":{}},\"patch\":[{\"op\":\"add\",\"path\":\"/a/-\","
                           "\"value\":3},{\"op\":\"replace\",\"path\":\"/b\",\"value\":\"x\"},{\"op\":\"remove\","
                           "\"path\":\"/a/0\"},{\"op\":\"add\",\"path\":\"/c~0~1/k\",\"value\":null}]}");
    CHECK(document(&c, d, "doc", &b) && b.len == strlen("{\"b\":\"x\",\"a\":[2,3],\"c~/\":{\"k\":null}}") &&
          memcmp(b.data, "{\"b\":\"x\",\"a\":[2,3],\"c~/\":{\"k\":null}}", b.len) == 0);
    bytes_free(&b);
    cJSON_Delete(d);
    d = cJSON_Parse("{\"base64\":\"eyJhIjoi/yJ9\"}");
    CHECK(document(&c, d, "doc", &b) && b.len == 9 && b.data[6] == 0xFF);
    bytes_free(&b);
    cJSON_Delete(d);
    CHECK(!failed(&c));
    d = cJSON_Parse("{\"text\":\"x\",\"json\":1}");
    CHECK(!document(&c, d, "doc", &b) && failed(&c));
    cJSON_Delete(d);
}

int main(void) {
    const char *dir = getenv("HIEVC_BEHAVIOUR_DIR");
    if (!dir || !*dir) dir = "tests/behaviour";
    runner_self_test();
    int total = 0, total_failing = 0, refused = 0;
    for (const char *const *a = AREAS; *a; a++) {
        SECTION(*a);
        int failing = 0;
        int n = replay(dir, *a, &failing);
        if (n < 0) {
            fprintf(stderr, "%s.json: refused (see above)\n", *a);
            refused++;
            continue;
        }
        fprintf(stderr, "%s.json: %d cases, %d passed, %d failed\n", *a, n, n - failing, failing);
        total += n;
        total_failing += failing;
    }
    fprintf(stderr, "behaviour: %d cases, %d passed, %d failed; %d files refused\n", total, total - total_failing,
            total_failing, refused);
    CHECK(hievc_shutdown(NULL) == HIEVC_OK);
    return finish("test_behaviour");
}
