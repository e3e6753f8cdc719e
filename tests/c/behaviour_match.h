/* The behaviour spec's matching rules (tests/behaviour/README.md, "Matching") for the C
 * runner: `expect` against a result document, every mismatch reported with where it is; and
 * JSON equality by value (round_trip's sameAsInput). */
#ifndef HIEVC_BEHAVIOUR_MATCH_H
#define HIEVC_BEHAVIOUR_MATCH_H

#include <cJSON.h>
#include <stdio.h>
#include <string.h>

/* Mismatches of one case, printed as they are found (unless `quiet`). */
typedef struct {
    const char *file;
    const char *name;
    int count;
    int quiet;
} Problems;

static void problem(Problems *p, const char *at, const char *fmt, const cJSON *expected, const cJSON *got) {
    p->count++;
    if (p->quiet) return;
    char *e = expected ? cJSON_PrintUnformatted(expected) : NULL;
    char *g = got ? cJSON_PrintUnformatted(got) : NULL;
    fprintf(stderr, "  FAIL %s: %s: %s: ", p->file, p->name, *at ? at : "/");
    fprintf(stderr, fmt, e ? e : "?");
    if (g && strlen(g) > 300) strcpy(g + 297, "...");
    fprintf(stderr, ", got %s\n", g ? g : "nothing");
    cJSON_free(e);
    cJSON_free(g);
}

static int present(const cJSON *v) { return v != NULL && !cJSON_IsNull(v); }

/* An object whose (first) member's name starts with `$`. */
static const cJSON *matcher_of(const cJSON *expected) {
    return cJSON_IsObject(expected) && expected->child && expected->child->string[0] == '$' ? expected->child : NULL;
}

static void match(const cJSON *expected, const cJSON *got, const char *at, Problems *p) {
    const cJSON *m = matcher_of(expected);
    if (m) {
        if (m->next) {
            problem(p, at, "a matcher object takes one member: %s", expected, got);
            return;
        }
        int ok;
        const char *s = cJSON_IsString(got) ? got->valuestring : NULL;
        if (strcmp(m->string, "$present") == 0 && cJSON_IsBool(m))
            ok = present(got) == cJSON_IsTrue(m);
        else if (strcmp(m->string, "$contains") == 0 && cJSON_IsString(m))
            ok = s && strstr(s, m->valuestring);
        else if (strcmp(m->string, "$excludes") == 0 && cJSON_IsString(m))
            ok = s && !strstr(s, m->valuestring);
        else if (strcmp(m->string, "$len") == 0 && cJSON_IsNumber(m))
            ok = cJSON_IsArray(got) && (double)cJSON_GetArraySize(got) == m->valuedouble;
        else {
            problem(p, at, "unknown matcher %s ($present: bool, $contains / $excludes: string, $len: n)", expected, got);
            return;
        }
        if (!ok) problem(p, at, "expected %s", expected, got);
        return;
    }
    if (cJSON_IsNull(expected)) {
        if (present(got)) problem(p, at, "expected %s or absent", expected, got);
    } else if (cJSON_IsObject(expected)) {
        if (!cJSON_IsObject(got)) {
            problem(p, at, "expected an object %s", expected, got);
            return;
        }
        for (const cJSON *e = expected->child; e; e = e->next) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", at, e->string);
            match(e, cJSON_GetObjectItemCaseSensitive(got, e->string), path, p);
        }
    } else if (cJSON_IsArray(expected)) {
        if (!cJSON_IsArray(got) || cJSON_GetArraySize(got) != cJSON_GetArraySize(expected)) {
            problem(p, at, "expected an array of the same length as %s", expected, got);
            return;
        }
        int i = 0;
        for (const cJSON *e = expected->child, *g = got->child; e && g; e = e->next, g = g->next, i++) {
            char path[512];
            snprintf(path, sizeof path, "%s/%d", at, i);
            match(e, g, path, p);
        }
    } else if (cJSON_IsBool(expected)) {
        /* A boolean matches a boolean only (cJSON keeps true and false as their own types). */
        if (!cJSON_IsBool(got) || cJSON_IsTrue(got) != cJSON_IsTrue(expected)) problem(p, at, "expected %s", expected, got);
    } else if (cJSON_IsNumber(expected)) {
        if (!cJSON_IsNumber(got) || got->valuedouble != expected->valuedouble) problem(p, at, "expected %s", expected, got);
    } else if (cJSON_IsString(expected)) {
        if (!cJSON_IsString(got) || strcmp(got->valuestring, expected->valuestring) != 0)
            problem(p, at, "expected %s", expected, got);
    } else {
        problem(p, at, "an expectation cannot be %s", expected, got);
    }
}

/* JSON equality by value: objects regardless of member order, numbers by value, booleans only
 * equal to booleans. */
static int same_value(const cJSON *a, const cJSON *b) {
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) return 0;
        for (const cJSON *m = a->child; m; m = m->next) {
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(b, m->string);
            if (!o || !same_value(m, o)) return 0;
        }
        return 1;
    }
    if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) return 0;
        for (const cJSON *x = a->child, *y = b->child; x && y; x = x->next, y = y->next)
            if (!same_value(x, y)) return 0;
        return 1;
    }
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) return a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a) && cJSON_IsString(b)) return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsBool(a) && cJSON_IsBool(b)) return cJSON_IsTrue(a) == cJSON_IsTrue(b);
    return cJSON_IsNull(a) && cJSON_IsNull(b);
}

#endif
