/*
 * test-diff.c: nst_diff_unified against GNU diff's output and GNU patch
 *
 * The fixed cases were produced with GNU diffutils 3.8
 * ("diff -u --label old.xml --label new.xml") and checked by hand.  The
 * property tests feed our output to GNU patch, which must turn the old
 * text into the new one exactly, and compare the number of changed lines
 * with a longest-common-subsequence computed the slow way.
 */
#include <check.h>
#include <errno.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

extern char **environ;

/* ------------------------------------------------------------ fixed cases */

struct diff_case {
    const char *name;
    const char *a;
    const char *b;
    const char *expected;
};

#define HDR "--- old.xml\n+++ new.xml\n"
#define NONL "\\ No newline at end of file\n"

static const struct diff_case cases[] = {
    { "equal", "1\n2\n3\n", "1\n2\n3\n", "" },
    { "both empty", "", "", "" },
    { "equal without newline", "x", "x", "" },
    { "insert in the middle",
      "1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\nN\n5\n6\n7\n8\n",
      HDR "@@ -2,6 +2,7 @@\n 2\n 3\n 4\n+N\n 5\n 6\n 7\n" },
    { "delete in the middle",
      "1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\n6\n7\n8\n",
      HDR "@@ -2,7 +2,6 @@\n 2\n 3\n 4\n-5\n 6\n 7\n 8\n" },
    { "change one line into two",
      "1\n2\n3\n4\n5\n6\n7\n", "1\n2\nthree\nTHREE\n4\n5\n6\n7\n",
      HDR "@@ -1,6 +1,7 @@\n 1\n 2\n-3\n+three\n+THREE\n 4\n 5\n 6\n" },
    { "insert at start", "1\n2\n3\n", "0\n1\n2\n3\n",
      HDR "@@ -1,3 +1,4 @@\n+0\n 1\n 2\n 3\n" },
    { "append at end", "1\n2\n3\n4\n5\n", "1\n2\n3\n4\n5\n6\n",
      HDR "@@ -3,3 +3,4 @@\n 3\n 4\n 5\n+6\n" },
    { "delete at start", "1\n2\n3\n4\n5\n", "2\n3\n4\n5\n",
      HDR "@@ -1,4 +1,3 @@\n-1\n 2\n 3\n 4\n" },
    { "delete at end", "1\n2\n3\n4\n5\n", "1\n2\n3\n4\n",
      HDR "@@ -2,4 +2,3 @@\n 2\n 3\n 4\n-5\n" },
    { "single lines: counts of 1 omitted", "x\n", "y\n",
      HDR "@@ -1 +1 @@\n-x\n+y\n" },
    { "old empty", "", "x\n",
      HDR "@@ -0,0 +1 @@\n+x\n" },
    { "new empty", "1\n2\n3\n", "",
      HDR "@@ -1,3 +0,0 @@\n-1\n-2\n-3\n" },
    { "newline removed at end", "a\nb\n", "a\nb",
      HDR "@@ -1,2 +1,2 @@\n a\n-b\n+b\n" NONL },
    { "newline added at end", "a\nb", "a\nb\nc\n",
      HDR "@@ -1,2 +1,3 @@\n a\n-b\n" NONL "+b\n+c\n" },
    { "context line without newline", "a\nx", "b\nx",
      HDR "@@ -1,2 +1,2 @@\n-a\n+b\n x\n" NONL },
    { "both last lines without newline", "a\nx", "a\ny",
      HDR "@@ -1,2 +1,2 @@\n a\n-x\n" NONL "+y\n" NONL },
    /* 6 equal lines between changes: the contexts touch, one hunk */
    { "hunks merged",
      "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n",
      "1\nX\n3\n4\n5\n6\n7\n8\nY\n10\n11\n12\n13\n14\n15\n16\n",
      HDR "@@ -1,12 +1,12 @@\n 1\n-2\n+X\n 3\n 4\n 5\n 6\n 7\n 8\n-9\n+Y\n"
      " 10\n 11\n 12\n" },
    /* 7 equal lines between changes: two hunks */
    { "hunks apart",
      "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n",
      "1\nX\n3\n4\n5\n6\n7\n8\n9\nY\n11\n12\n13\n14\n15\n16\n",
      HDR "@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n"
      "@@ -7,7 +7,7 @@\n 7\n 8\n 9\n-10\n+Y\n 11\n 12\n 13\n" },
};

START_TEST(test_fixed_case)
{
    const struct diff_case *c = &cases[_i];
    char *got = nst_diff_unified(c->a, strlen(c->a), c->b, strlen(c->b),
                                 "old.xml", "new.xml");
    ck_assert_ptr_nonnull(got);
    ck_assert_msg(strcmp(got, c->expected) == 0,
                  "case '%s':\n--- expected\n%s--- got\n%s", c->name,
                  c->expected, got);
    free(got);
}
END_TEST

START_TEST(test_null_empty_inputs)
{
    char *got = nst_diff_unified(NULL, 0, NULL, 0, "a", "b");
    ck_assert_str_eq(got, "");
    free(got);

    got = nst_diff_unified(NULL, 0, "x\n", 2, "a", "b");
    ck_assert_str_eq(got, "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n");
    free(got);
}
END_TEST

START_TEST(test_labels_verbatim)
{
    char *got = nst_diff_unified("a\n", 2, "b\n", 2, "domain 'web1' (live)",
                                 "domain 'web1' (nestified)");
    ck_assert_str_eq(got, "--- domain 'web1' (live)\n"
                     "+++ domain 'web1' (nestified)\n"
                     "@@ -1 +1 @@\n-a\n+b\n");
    free(got);
}
END_TEST

/* A line that is a prefix of another, and lines with NUL bytes. */
START_TEST(test_lines_compared_whole)
{
    char *got = nst_diff_unified("ab\n", 3, "a\n", 2, "a", "b");
    ck_assert_str_eq(got, "--- a\n+++ b\n@@ -1 +1 @@\n-ab\n+a\n");
    free(got);

    static const char a[] = "x\0y\nz\n", b[] = "x\0q\nz\n";
    size_t len;
    got = nst_diff_unified(a, sizeof(a) - 1, b, sizeof(b) - 1, "a", "b");
    ck_assert_ptr_nonnull(got);
    len = strlen(got);
    ck_assert_str_eq(got, "--- a\n+++ b\n@@ -1,2 +1,2 @@\n-x");
    ck_assert_int_eq(memcmp(got + len, "\0y\n+x\0q\n z\n", 11), 0);
    free(got);
}
END_TEST

/* ------------------------------------------------------ random texts */

/* xorshift64*: deterministic, and the same on every platform */
struct rng {
    uint64_t state;
};

static uint64_t
rng_next(struct rng *rng)
{
    rng->state ^= rng->state >> 12;
    rng->state ^= rng->state << 25;
    rng->state ^= rng->state >> 27;
    return rng->state * 2685821657736338717ULL;
}

static size_t
rng_below(struct rng *rng, size_t n)
{
    return n ? (size_t)(rng_next(rng) % n) : 0;
}

/* A text as lines, each without its newline; "nonl": no final newline. */
struct text {
    char **lines;
    size_t n, cap;
    int nonl;
};

static void
text_insert(struct text *t, size_t at, char *line)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->lines = realloc(t->lines, t->cap * sizeof(*t->lines));
        ck_assert_ptr_nonnull(t->lines);
    }
    memmove(t->lines + at + 1, t->lines + at,
            (t->n - at) * sizeof(*t->lines));
    t->lines[at] = line;
    t->n++;
}

static void
text_delete(struct text *t, size_t at)
{
    free(t->lines[at]);
    memmove(t->lines + at, t->lines + at + 1,
            (t->n - at - 1) * sizeof(*t->lines));
    t->n--;
}

static void
text_clear(struct text *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->lines[i]);
    free(t->lines);
}

static char *
text_join(const struct text *t, size_t *len)
{
    struct nst_buf buf = { 0 };
    for (size_t i = 0; i < t->n; i++) {
        nst_buf_adds(&buf, t->lines[i]);
        if (i + 1 < t->n || !t->nonl)
            nst_buf_add(&buf, "\n", 1);
    }
    char *data = nst_buf_finish(&buf, len);
    ck_assert_ptr_nonnull(data);
    return data;
}

/*
 * Lines drawn from a small vocabulary of XML-ish lines so that texts
 * repeat lines (closing tags) the way domain XML does, which is what
 * makes the choice of alignment interesting.
 */
static char *
random_line(struct rng *rng, size_t vocabulary)
{
    size_t v = rng_below(rng, vocabulary);
    char *line;
    switch (rng_below(rng, 7)) {
    case 0:
        line = nst_printf("  <vcpu placement='static'>%zu</vcpu>", v);
        break;
    case 1:
        line = nst_printf("    </disk>");
        break;
    case 2:
        line = nst_printf("  <memory unit='KiB'>%zu</memory>", v);
        break;
    case 3:
        line = nst_printf("%s", "");
        break;
    case 4:
        line = nst_printf("      <source file='/images/%zu.qcow2'/>", v);
        break;
    case 5:
        line = nst_printf("  </devices>");
        break;
    default:
        line = nst_printf("line %zu", v);
        break;
    }
    ck_assert_ptr_nonnull(line);
    return line;
}

/* Fills old with random lines and new with a line-level edit of it. */
static void
random_pair(struct rng *rng, size_t max_lines, struct text *old,
            struct text *new)
{
    size_t vocabulary = 1 + rng_below(rng, 12);
    size_t n = rng_below(rng, max_lines + 1);
    for (size_t i = 0; i < n; i++)
        text_insert(old, old->n, random_line(rng, vocabulary));
    old->nonl = old->n > 0 && old->lines[old->n - 1][0] != '\0' &&
        rng_below(rng, 5) == 0;

    for (size_t i = 0; i < old->n; i++) {
        char *copy = nst_printf("%s", old->lines[i]);
        ck_assert_ptr_nonnull(copy);
        text_insert(new, new->n, copy);
    }
    new->nonl = old->nonl;

    size_t edits = rng_below(rng, 8);
    for (size_t e = 0; e < edits; e++) {
        size_t op = rng_below(rng, 3);
        size_t at = rng_below(rng, new->n + 1);
        size_t size = 1 + rng_below(rng, rng_below(rng, 4) ? 4 : 40);
        if (op != 1) {
            /* delete (op 0) or replace (op 2) a run */
            for (size_t k = 0; k < size && at < new->n; k++)
                text_delete(new, at);
        }
        if (op != 0) {
            for (size_t k = 0; k < size; k++)
                text_insert(new, at, random_line(rng, vocabulary));
        }
    }
    if (new->n > 0 && rng_below(rng, 6) == 0)
        new->nonl = !new->nonl;
    /* an empty last line without newline is no line at all */
    if (new->n == 0 || new->lines[new->n - 1][0] == '\0')
        new->nonl = 0;
}

/* Runs argv[0] from PATH; returns its exit status, -1 when it died. */
static int
run(char *const argv[])
{
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    ck_assert_msg(rc == 0, "cannot run %s: %s", argv[0], strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Applies diff to old with GNU patch (no fuzz, so every hunk has to
 * match exactly where it says) and checks the result is new.
 */
static void
check_patch_roundtrip(const char *dir, const char *old, size_t oldlen,
                      const char *new, size_t newlen, const char *diff)
{
    char *oldpath = nst_printf("%s/old", dir);
    char *diffpath = nst_printf("%s/diff", dir);
    char *outpath = nst_printf("%s/out", dir);
    char *rejpath = nst_printf("%s/out.rej", dir);
    ck_assert(oldpath && diffpath && outpath && rejpath);

    test_write_file(oldpath, old, oldlen);
    test_write_file(diffpath, diff, strlen(diff));
    unlink(outpath);
    char *argv[] = {
        "patch", "-s", "--fuzz=0", "--no-backup-if-mismatch",
        "-o", outpath, "-r", rejpath, oldpath, diffpath, NULL
    };
    int status = run(argv);
    ck_assert_msg(status == 0, "patch failed (%d) on:\n%s", status, diff);

    size_t outlen;
    char *out = test_read_file(outpath, &outlen);
    ck_assert_msg(out != NULL, "patch wrote no output for:\n%s", diff);
    ck_assert_msg(outlen == newlen && memcmp(out, new, newlen) == 0,
                  "patched text differs for diff:\n%s", diff);

    free(out);
    unlink(oldpath);
    unlink(diffpath);
    unlink(outpath);
    unlink(rejpath);
    free(oldpath);
    free(diffpath);
    free(outpath);
    free(rejpath);
}

/*
 * The scratch directory for patch.  It is made and removed in the
 * parent process (an unchecked fixture), so a failing test in its
 * forked child does not leave it behind.
 */
static char scratch_dir[] = "/tmp/nst-test-diff-XXXXXX";

static const char *const scratch_files[] = { "old", "diff", "out", "out.rej" };

static void
scratch_setup(void)
{
    if (!mkdtemp(scratch_dir)) {
        perror("mkdtemp");
        abort();
    }
}

static void
scratch_teardown(void)
{
    for (size_t i = 0; i < sizeof(scratch_files) / sizeof(*scratch_files);
         i++) {
        char *path = nst_printf("%s/%s", scratch_dir, scratch_files[i]);
        if (path)
            unlink(path);
        free(path);
    }
    rmdir(scratch_dir);
}

START_TEST(test_patch_roundtrip)
{
    const char *dir = scratch_dir;
    struct rng rng = { 0x6e6573746966792aULL };   /* "nestify*" */
    size_t nonempty = 0;

    for (int round = 0; round < 300; round++) {
        struct text old = { 0 }, new = { 0 };
        random_pair(&rng, round < 50 ? 12 : 200, &old, &new);
        size_t oldlen, newlen;
        char *a = text_join(&old, &oldlen);
        char *b = text_join(&new, &newlen);

        char *diff = nst_diff_unified(a, oldlen, b, newlen, "old", "new");
        ck_assert_ptr_nonnull(diff);
        if (oldlen == newlen && memcmp(a, b, oldlen) == 0) {
            ck_assert_str_eq(diff, "");
        } else {
            ck_assert_str_ne(diff, "");
            check_patch_roundtrip(dir, a, oldlen, b, newlen, diff);
            nonempty++;
        }
        free(diff);
        free(a);
        free(b);
        text_clear(&old);
        text_clear(&new);
    }
    /* the generator must really produce differences */
    ck_assert_uint_gt(nonempty, 250);
}
END_TEST

/*
 * Two unrelated texts over a 26-line alphabet: thousands of differences
 * among lines that all occur on both sides, so the search gives up on a
 * shortest script (DIFF_MAX_COST) and the split it falls back on must
 * still make a diff that patch applies.
 */
START_TEST(test_expensive_roundtrip)
{
    struct rng rng = { 7 };
    struct nst_buf ba = { 0 }, bb = { 0 };
    for (size_t i = 0; i < 8000; i++) {
        nst_buf_addf(&ba, "%c\n", (char)('a' + rng_below(&rng, 26)));
        nst_buf_addf(&bb, "%c\n", (char)('a' + rng_below(&rng, 26)));
    }
    size_t alen, blen;
    char *a = nst_buf_finish(&ba, &alen);
    char *b = nst_buf_finish(&bb, &blen);
    ck_assert(a && b);
    char *diff = nst_diff_unified(a, alen, b, blen, "old", "new");
    ck_assert_ptr_nonnull(diff);
    check_patch_roundtrip(scratch_dir, a, alen, b, blen, diff);
    free(diff);
    free(a);
    free(b);
}
END_TEST

/* Length of the longest common subsequence of the lines, by DP. */
static size_t
lcs_length(const struct text *a, const struct text *b)
{
    size_t cols = b->n + 1;
    size_t *row = calloc(2 * cols, sizeof(*row));
    ck_assert_ptr_nonnull(row);
    size_t *prev = row, *cur = row + cols;
    for (size_t i = 1; i <= a->n; i++) {
        cur[0] = 0;
        for (size_t j = 1; j <= b->n; j++) {
            /* the last lines are equal only when their newlines agree */
            int last_a = i == a->n && a->nonl;
            int last_b = j == b->n && b->nonl;
            if (last_a == last_b &&
                strcmp(a->lines[i - 1], b->lines[j - 1]) == 0)
                cur[j] = prev[j - 1] + 1;
            else
                cur[j] = prev[j] > cur[j - 1] ? prev[j] : cur[j - 1];
        }
        size_t *swap = prev;
        prev = cur;
        cur = swap;
    }
    size_t result = prev[b->n];
    free(row);
    return result;
}

/* Counts the '-' and '+' lines of a diff, skipping the two headers. */
static size_t
count_changed_lines(const char *diff, size_t len)
{
    size_t count = 0, lineno = 0;
    for (size_t i = 0; i < len; lineno++) {
        if (lineno >= 2 && (diff[i] == '-' || diff[i] == '+'))
            count++;
        const char *nl = memchr(diff + i, '\n', len - i);
        ck_assert_ptr_nonnull(nl);
        i = (size_t)(nl - diff) + 1;
    }
    return count;
}

/* Myers gives a shortest edit script: n + m - 2 * LCS changed lines. */
START_TEST(test_minimal)
{
    struct rng rng = { 0x2545f4914f6cdd1dULL };
    for (int round = 0; round < 2000; round++) {
        struct text old = { 0 }, new = { 0 };
        random_pair(&rng, 30, &old, &new);
        size_t oldlen, newlen, difflen;
        char *a = text_join(&old, &oldlen);
        char *b = text_join(&new, &newlen);
        char *diff = nst_diff_unified(a, oldlen, b, newlen, "a", "b");
        ck_assert_ptr_nonnull(diff);
        difflen = strlen(diff);

        size_t want = old.n + new.n - 2 * lcs_length(&old, &new);
        size_t got = count_changed_lines(diff, difflen);
        ck_assert_msg(got == want, "round %d: %zu changed lines, minimum "
                      "is %zu:\n%s", round, got, want, diff);
        free(diff);
        free(a);
        free(b);
        text_clear(&old);
        text_clear(&new);
    }
}
END_TEST

/* ------------------------------------------------------------ big inputs */

static char *
numbered_lines(size_t n, const size_t *changed, size_t nchanged,
               size_t *len)
{
    struct nst_buf buf = { 0 };
    for (size_t i = 0; i < n; i++) {
        int edit = 0;
        for (size_t k = 0; k < nchanged; k++)
            edit |= changed[k] == i;
        nst_buf_addf(&buf, edit ? "<changed line='%zu'/>\n"
                     : "<line n='%zu'/>\n", i);
    }
    char *data = nst_buf_finish(&buf, len);
    ck_assert_ptr_nonnull(data);
    return data;
}

static size_t
count_occurrences(const char *haystack, const char *needle)
{
    size_t count = 0;
    for (const char *p = haystack; (p = strstr(p, needle)); p++)
        count++;
    return count;
}

START_TEST(test_large_few_changes)
{
    static const size_t changed[] = { 0, 4000, 10000, 10005, 19999 };
    size_t alen, blen;
    char *a = numbered_lines(20000, NULL, 0, &alen);
    char *b = numbered_lines(20000, changed, 5, &blen);
    char *diff = nst_diff_unified(a, alen, b, blen, "a", "b");
    ck_assert_ptr_nonnull(diff);

    /* 10000 and 10005 are 4 lines apart: 4 hunks for 5 changes */
    ck_assert_uint_eq(count_occurrences(diff, "\n@@ "), 4);
    ck_assert_uint_eq(count_occurrences(diff, "\n-<line"), 5);
    ck_assert_uint_eq(count_occurrences(diff, "\n+<changed"), 5);
    ck_assert_ptr_nonnull(strstr(diff, "@@ -1,4 +1,4 @@\n-<line n='0'/>\n"
                                 "+<changed line='0'/>\n"));
    ck_assert_ptr_nonnull(strstr(diff, "@@ -3998,7 +3998,7 @@\n"));
    ck_assert_ptr_nonnull(strstr(diff, "@@ -9998,12 +9998,12 @@\n"));
    ck_assert_ptr_nonnull(strstr(diff, "@@ -19997,4 +19997,4 @@\n"));
    free(diff);
    free(a);
    free(b);
}
END_TEST

/* Nothing in common: must neither take quadratic time nor memory. */
START_TEST(test_large_disjoint)
{
    struct nst_buf ba = { 0 }, bb = { 0 };
    for (size_t i = 0; i < 100000; i++) {
        nst_buf_addf(&ba, "a%zu\n", i);
        nst_buf_addf(&bb, "b%zu\n", i);
    }
    size_t alen, blen;
    char *a = nst_buf_finish(&ba, &alen);
    char *b = nst_buf_finish(&bb, &blen);
    ck_assert(a && b);
    char *diff = nst_diff_unified(a, alen, b, blen, "a", "b");
    ck_assert_ptr_nonnull(diff);
    ck_assert_ptr_nonnull(strstr(diff, "@@ -1,100000 +1,100000 @@\n-a0\n"));
    ck_assert_uint_eq(count_occurrences(diff, "\n@@ "), 1);
    free(diff);
    free(a);
    free(b);
}
END_TEST

/* 100k lines with scattered edits among many repeated lines. */
START_TEST(test_large_repetitive)
{
    struct rng rng = { 42 };
    struct text old = { 0 }, new = { 0 };
    for (size_t i = 0; i < 100000; i++) {
        char *line = nst_printf("%s", i % 7 ? "    </disk>" : "  <x/>");
        char *copy = nst_printf("%s", line);
        ck_assert(line && copy);
        text_insert(&old, old.n, line);
        text_insert(&new, new.n, copy);
    }
    for (int e = 0; e < 50; e++)
        text_delete(&new, rng_below(&rng, new.n));
    size_t alen, blen;
    char *a = text_join(&old, &alen);
    char *b = text_join(&new, &blen);
    char *diff = nst_diff_unified(a, alen, b, blen, "a", "b");
    ck_assert_ptr_nonnull(diff);
    ck_assert_uint_eq(count_changed_lines(diff, strlen(diff)), 50);
    free(diff);
    free(a);
    free(b);
    text_clear(&old);
    text_clear(&new);
}
END_TEST

static Suite *
diff_suite(void)
{
    Suite *suite = suite_create("diff");

    TCase *tc = tcase_create("format");
    tcase_add_loop_test(tc, test_fixed_case, 0,
                        (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, test_null_empty_inputs);
    tcase_add_test(tc, test_labels_verbatim);
    tcase_add_test(tc, test_lines_compared_whole);
    suite_add_tcase(suite, tc);

    tc = tcase_create("properties");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, scratch_setup, scratch_teardown);
    tcase_add_test(tc, test_patch_roundtrip);
    tcase_add_test(tc, test_expensive_roundtrip);
    tcase_add_test(tc, test_minimal);
    suite_add_tcase(suite, tc);

    tc = tcase_create("large");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_large_few_changes);
    tcase_add_test(tc, test_large_disjoint);
    tcase_add_test(tc, test_large_repetitive);
    suite_add_tcase(suite, tc);

    return suite;
}

int
main(void)
{
    return test_run_suite(diff_suite());
}
