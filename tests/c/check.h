/* A minimal test harness for the libhievc C suite: CHECK counts and reports, never aborts. */
#ifndef HIEVC_TEST_CHECK_H
#define HIEVC_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hie_vc.h>

static int checks_run = 0;
static int checks_failed = 0;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        checks_run++;                                                               \
        if (!(cond)) {                                                              \
            checks_failed++;                                                        \
            fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);       \
        }                                                                           \
    } while (0)

/* `E` is the name every test uses for its error out-parameter. */
#define EXPECT(expected, expr)                                                      \
    do {                                                                            \
        checks_run++;                                                               \
        hievc_status st_ = (expr);                                                  \
        if (st_ != (expected)) {                                                    \
            checks_failed++;                                                        \
            fprintf(stderr, "  FAIL %s:%d: %s -> %s (%d), expected %s: %s\n",      \
                    __FILE__, __LINE__, #expr, hievc_status_name(st_), (int)st_,    \
                    hievc_status_name(expected),                                    \
                    E ? hievc_error_message(E) : "(no error detail)");              \
        }                                                                           \
        hievc_error_free(E);                                                        \
        E = NULL;                                                                   \
    } while (0)

/* Like EXPECT, but keeps the error in E for inspection (the caller frees it). */
#define EXPECT_KEEP(expected, expr)                                                 \
    do {                                                                            \
        checks_run++;                                                               \
        hievc_status st_ = (expr);                                                  \
        if (st_ != (expected)) {                                                    \
            checks_failed++;                                                        \
            fprintf(stderr, "  FAIL %s:%d: %s -> %s (%d), expected %s: %s\n",      \
                    __FILE__, __LINE__, #expr, hievc_status_name(st_), (int)st_,    \
                    hievc_status_name(expected),                                    \
                    E ? hievc_error_message(E) : "(no error detail)");              \
        }                                                                           \
    } while (0)

#define CONTAINS(haystack, needle) ((haystack) != NULL && strstr((haystack), (needle)) != NULL)

#define SECTION(name) fprintf(stderr, "-- %s\n", name)

/* A part of the suite cannot run (`why`: its service is not configured): a failure, never a
 * skip, so a suite whose service is missing cannot pass. */
static void service_missing(const char *part, const char *why) {
    checks_run++;
    checks_failed++;
    fprintf(stderr, "  FAIL %s: %s (start the services: tests/services/*.sh start)\n", part, why);
}

static int finish(const char *suite) {
    fprintf(stderr, "%s: %d checks, %d failed\n", suite, checks_run, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}

/* Reads a whole file into a NUL-terminated heap string (NULL on error). */
static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The directory of the test data (HIEVC_TEST_DATA, default tests/c/data). */
static char *data_file(const char *name) {
    const char *dir = getenv("HIEVC_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/c/data", name);
    return read_file(path);
}

#endif
