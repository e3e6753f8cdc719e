/* The behaviour spec's case format (tests/behaviour/README.md) for the C runner
 * (test_behaviour.c): the runner's error, input checks (unknown keys fail the case) and the
 * documents a case names (example / json / text / base64, with an optional JSON Patch). */
#ifndef HIEVC_BEHAVIOUR_SPEC_H
#define HIEVC_BEHAVIOUR_SPEC_H

#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One case's run: the first runner error (a case whose runner fails fails, named). */
typedef struct {
    char error[2048];
} Ctx;

/* Records a runner error (the first one wins: it is the cause) and returns NULL. */
static void *fail(Ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void *fail(Ctx *c, const char *fmt, ...) {
    if (c->error[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->error, sizeof c->error, fmt, ap);
        va_end(ap);
        if (c->error[0] == '\0') snprintf(c->error, sizeof c->error, "runner error");
    }
    return NULL;
}

static int failed(const Ctx *c) { return c->error[0] != '\0'; }

/* Fails unless every member of `obj` is one of `allowed` (NULL-terminated): a misspelt or
 * new key must not pass unnoticed. An absent `obj` has no keys. */
static int check_keys(Ctx *c, const cJSON *obj, const char *what, const char *const *allowed) {
    if (obj == NULL) return 1;
    if (!cJSON_IsObject(obj)) {
        fail(c, "%s is not an object", what);
        return 0;
    }
    for (const cJSON *m = obj->child; m; m = m->next) {
        int known = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(m->string, *a) == 0) known = 1;
        if (!known) {
            fail(c, "%s: unknown key \"%s\"", what, m->string);
            return 0;
        }
    }
    return 1;
}

static const cJSON *member(const cJSON *obj, const char *key) {
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

/* An optional string member: 1 and *out set (borrowed) / 1 and NULL when absent or null /
 * 0 (runner error) for another type. */
static int opt_string(Ctx *c, const cJSON *obj, const char *key, const char **out) {
    const cJSON *v = member(obj, key);
    *out = NULL;
    if (v == NULL || cJSON_IsNull(v)) return 1;
    if (!cJSON_IsString(v)) {
        fail(c, "\"%s\" must be a string", key);
        return 0;
    }
    *out = v->valuestring;
    return 1;
}

static const char *req_string(Ctx *c, const cJSON *obj, const char *key) {
    const char *s = NULL;
    if (opt_string(c, obj, key, &s) && s == NULL) fail(c, "\"%s\" is required", key);
    return s;
}

/* An optional boolean member (`def` when absent); 0 for another type. */
static int opt_bool(Ctx *c, const cJSON *obj, const char *key, int def, int *out) {
    const cJSON *v = member(obj, key);
    *out = def;
    if (v == NULL || cJSON_IsNull(v)) return 1;
    if (!cJSON_IsBool(v)) {
        fail(c, "\"%s\" must be a boolean", key);
        return 0;
    }
    *out = cJSON_IsTrue(v);
    return 1;
}

/* A read mode member (`strict` when absent): 1 for lenient, 0 for strict, -1 (runner error)
 * for anything else. */
static int read_mode(Ctx *c, const cJSON *obj, const char *key) {
    const char *m = NULL;
    if (!opt_string(c, obj, key, &m)) return -1;
    if (m == NULL || strcmp(m, "strict") == 0) return 0;
    if (strcmp(m, "lenient") == 0) return 1;
    fail(c, "\"%s\" is \"strict\" or \"lenient\", not \"%s\"", key, m);
    return -1;
}

/* ---- documents ---- */

typedef struct {
    unsigned char *data;
    size_t len;
} Bytes;

static void bytes_free(Bytes *b) {
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

static const char *const DOCUMENT_KEYS[] = {"example", "json", "text", "base64", "patch", NULL};

/* Takes ownership of `text` (NUL-terminated, malloc'd) as the document's bytes. */
static int take_text(Bytes *out, char *text) {
    if (text == NULL) return 0;
    out->data = (unsigned char *)text;
    out->len = strlen(text);
    return 1;
}

static int read_whole_file(const char *path, Bytes *out) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            unsigned char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    int ok = buf != NULL && !ferror(f);
    fclose(f);
    if (!ok) {
        free(buf);
        return 0;
    }
    out->data = buf;
    out->len = len;
    return 1;
}

/* $HIEVC_SPEC_DIR, else the repository's parent's shared/spec (the runner runs from the
 * repository root: tests/c/run.sh changes there). */
static void examples_dir(char *buf, size_t size) {
    const char *spec = getenv("HIEVC_SPEC_DIR");
    snprintf(buf, size, "%s/mycore-ig/examples", spec && *spec ? spec : "../shared/spec");
}

static int b64_value(unsigned char ch) {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
}

/* Standard base64 (padding optional); 0 for anything else. */
static int base64_decode(const char *s, Bytes *out) {
    size_t n = strlen(s);
    unsigned char *buf = malloc(n / 4 * 3 + 3);
    if (!buf) return 0;
    size_t len = 0;
    unsigned acc = 0;
    int bits = 0;
    size_t i = 0;
    for (; i < n && s[i] != '='; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0) {
            free(buf);
            return 0;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[len++] = (unsigned char)((acc >> bits) & 0xFF);
        }
    }
    for (; i < n; i++)
        if (s[i] != '=') {
            free(buf);
            return 0;
        }
    out->data = buf;
    out->len = len;
    return 1;
}

/* RFC 6901: one reference token, unescaped (`~1` is `/`, `~0` is `~`), into `buf`. */
static const char *next_token(const char *p, char *buf, size_t size) {
    size_t n = 0;
    while (*p && *p != '/') {
        char ch = *p++;
        if (ch == '~' && (*p == '0' || *p == '1')) ch = *p++ == '0' ? '~' : '/';
        if (n + 1 < size) buf[n++] = ch;
    }
    buf[n] = '\0';
    return p;
}

static int array_index(const char *tok, int size, int allow_end, int *out) {
    if (allow_end && strcmp(tok, "-") == 0) {
        *out = size;
        return 1;
    }
    if (!*tok || (tok[0] == '0' && tok[1])) return 0;
    long v = 0;
    for (const char *p = tok; *p; p++) {
        if (*p < '0' || *p > '9' || v > 1000000) return 0;
        v = v * 10 + (*p - '0');
    }
    if (v > size || (!allow_end && v == size)) return 0;
    *out = (int)v;
    return 1;
}

/* Applies one JSON Patch operation (`add`, `remove`, `replace`) to *root, in place; new
 * members go last, replaced ones keep their place (member order is kept). */
static int apply_patch(Ctx *c, cJSON **root, const cJSON *op, int index) {
    static const char *const keys[] = {"op", "path", "value", NULL};
    char what[64];
    snprintf(what, sizeof what, "patch[%d]", index);
    if (!check_keys(c, op, what, keys)) return 0;
    const char *kind = req_string(c, op, "op");
    const char *path = req_string(c, op, "path");
    if (!kind || !path) return 0;
    int is_add = strcmp(kind, "add") == 0, is_remove = strcmp(kind, "remove") == 0,
        is_replace = strcmp(kind, "replace") == 0;
    if (!is_add && !is_remove && !is_replace) {
        fail(c, "%s: unknown patch op \"%s\"", what, kind);
        return 0;
    }
    const cJSON *value = member(op, "value");
    if (!is_remove && value == NULL) {
        fail(c, "%s: \"%s\" needs a value", what, kind);
        return 0;
    }
    if (*path == '\0') {
        if (is_remove) {
            fail(c, "%s: cannot remove the whole document", what);
            return 0;
        }
        cJSON *copy = cJSON_Duplicate(value, 1);
        cJSON_Delete(*root);
        *root = copy;
        return copy != NULL;
    }
    if (*path != '/') {
        fail(c, "%s: \"%s\" is not a JSON pointer", what, path);
        return 0;
    }
    char tok[512];
    cJSON *parent = *root;
    const char *p = next_token(path + 1, tok, sizeof tok);
    while (*p == '/') {
        cJSON *child = NULL;
        int i;
        if (cJSON_IsArray(parent) && array_index(tok, cJSON_GetArraySize(parent), 0, &i))
            child = cJSON_GetArrayItem(parent, i);
        else if (cJSON_IsObject(parent))
            child = cJSON_GetObjectItemCaseSensitive(parent, tok);
        if (child == NULL) {
            fail(c, "%s: \"%s\" is not in the document", what, path);
            return 0;
        }
        parent = child;
        p = next_token(p + 1, tok, sizeof tok);
    }
    if (cJSON_IsArray(parent)) {
        int i;
        if (!array_index(tok, cJSON_GetArraySize(parent), is_add, &i)) {
            fail(c, "%s: no item \"%s\" in the array at \"%s\"", what, tok, path);
            return 0;
        }
        if (is_remove) {
            cJSON_DeleteItemFromArray(parent, i);
            return 1;
        }
        cJSON *copy = cJSON_Duplicate(value, 1);
        if (is_replace) return copy && cJSON_ReplaceItemInArray(parent, i, copy);
        if (i == cJSON_GetArraySize(parent)) return copy && cJSON_AddItemToArray(parent, copy);
        return copy && cJSON_InsertItemInArray(parent, i, copy);
    }
    if (!cJSON_IsObject(parent)) {
        fail(c, "%s: the parent of \"%s\" is not an object or array", what, path);
        return 0;
    }
    int exists = cJSON_GetObjectItemCaseSensitive(parent, tok) != NULL;
    if ((is_remove || is_replace) && !exists) {
        fail(c, "%s: \"%s\" is not in the document", what, path);
        return 0;
    }
    if (is_remove) {
        cJSON_DeleteItemFromObjectCaseSensitive(parent, tok);
        return 1;
    }
    cJSON *copy = cJSON_Duplicate(value, 1);
    if (copy == NULL) return 0;
    if (exists) return cJSON_ReplaceItemInObjectCaseSensitive(parent, tok, copy);
    return cJSON_AddItemToObject(parent, tok, copy);
}

/* The bytes of a document: exactly one of example / json / text / base64 (other members of
 * `d` are the caller's to check), then the optional patch (example or json only), written as
 * compact JSON with member order kept. */
static int document(Ctx *c, const cJSON *d, const char *what, Bytes *out) {
    out->data = NULL;
    out->len = 0;
    if (!cJSON_IsObject(d)) {
        fail(c, "%s is not a document object", what);
        return 0;
    }
    const char *source = NULL;
    int sources = 0;
    for (const char *const *k = DOCUMENT_KEYS; *k; k++)
        if (strcmp(*k, "patch") != 0 && member(d, *k)) {
            source = *k;
            sources++;
        }
    if (sources != 1) {
        fail(c, "%s has %d sources: a document has exactly one of example, json, text, base64", what, sources);
        return 0;
    }
    const cJSON *v = member(d, source);
    const cJSON *patch = member(d, "patch");
    if (patch && !cJSON_IsArray(patch)) {
        fail(c, "%s: \"patch\" is a list of operations", what);
        return 0;
    }
    int patchable = strcmp(source, "example") == 0 || strcmp(source, "json") == 0;
    if (patch && !patchable) {
        fail(c, "%s: a %s document takes no patch", what, source);
        return 0;
    }
    if (strcmp(source, "text") == 0 || strcmp(source, "base64") == 0) {
        if (!cJSON_IsString(v)) {
            fail(c, "%s: \"%s\" must be a string", what, source);
            return 0;
        }
        if (source[0] == 't') return take_text(out, strdup(v->valuestring)) || fail(c, "out of memory");
        return base64_decode(v->valuestring, out) || fail(c, "%s: invalid base64", what);
    }
    cJSON *value = NULL;
    if (source[0] == 'e') {
        if (!cJSON_IsString(v) || strchr(v->valuestring, '/') || v->valuestring[0] == '.') {
            fail(c, "%s: \"example\" is a plain file name", what);
            return 0;
        }
        char path[1024];
        examples_dir(path, sizeof path);
        size_t used = strlen(path);
        snprintf(path + used, sizeof path - used, "/%s", v->valuestring);
        if (!read_whole_file(path, out)) {
            fail(c, "%s: cannot read %s (set HIEVC_SPEC_DIR)", what, path);
            return 0;
        }
        if (!patch) return 1;
        value = cJSON_ParseWithLength((const char *)out->data, out->len);
        bytes_free(out);
        if (!value) {
            fail(c, "%s: example %s is not JSON", what, v->valuestring);
            return 0;
        }
    } else {
        value = cJSON_Duplicate(v, 1);
    }
    int i = 0;
    for (const cJSON *op = patch ? patch->child : NULL; op && value; op = op->next, i++)
        if (!apply_patch(c, &value, op, i)) {
            cJSON_Delete(value);
            return 0;
        }
    int ok = take_text(out, value ? cJSON_PrintUnformatted(value) : NULL);
    cJSON_Delete(value);
    return ok || fail(c, "%s: could not write the document", what);
}

#endif
