/*
 * profile.c: profile texts -> struct nst_profile, and their composition
 *
 * A profile is "key = value" lines applied over the defaults.  Every key
 * is described once, in keys[] below: its name, how its value is parsed,
 * which field it sets and its default.  The same table serves profile
 * files, --set KEY=VALUE and nst_profile_init, so a new key cannot be
 * known to one and missing from the others.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Longest line we read; longer ones are almost surely not a profile. */
#define MAX_LINE 4096

/* Origin used in the messages of nst_profile_set. */

static const char *const thread_policy_names[NST_THREAD_LAST] = {
    [NST_THREAD_PREFER] = "prefer",
    [NST_THREAD_ISOLATE] = "isolate",
    [NST_THREAD_REQUIRE] = "require",
};

static const char *const cpu_mode_names[NST_CPU_MODE_LAST] = {
    [NST_CPU_PASSTHROUGH] = "passthrough",
    [NST_CPU_HOST_MODEL] = "host-model",
    [NST_CPU_BASELINE] = "baseline",
};

static const char *const guest_os_names[NST_GUEST_OS_LAST] = {
    [NST_GUEST_OS_AUTO] = "auto",
    [NST_GUEST_OS_WINDOWS] = "windows",
    [NST_GUEST_OS_OTHER] = "other",
};

static const char *const rt_scheduler_names[NST_RT_SCHEDULER_LAST] = {
    [NST_RT_FIFO] = "fifo",
    [NST_RT_RR] = "rr",
};

static const char *const iothreads_names[NST_IOTHREADS_LAST] = {
    [NST_IOTHREADS_OFF] = "off",
    [NST_IOTHREADS_SHARED] = "shared",
    [NST_IOTHREADS_PER_DISK] = "per-disk",
};

static const char *const disk_cache_names[NST_DISK_CACHE_LAST] = {
    [NST_DISK_CACHE_KEEP] = "keep",
    [NST_DISK_CACHE_NONE_NATIVE] = "none-native",
    [NST_DISK_CACHE_NONE_IO_URING] = "none-io_uring",
    [NST_DISK_CACHE_WRITEBACK_THREADS] = "writeback-threads",
};

static const char *const balloon_names[NST_BALLOON_LAST] = {
    [NST_BALLOON_KEEP] = "keep",
    [NST_BALLOON_NONE] = "none",
};

enum key_type {
    KEY_TEXT,            /* char *, free text, "" means none */
    KEY_BOOL,            /* bool, on/off and friends */
    KEY_UINT,            /* unsigned int within [min, max] */
    KEY_ENUM,            /* an enum, one of names[0..count) */
    KEY_HOUSEKEEPING,    /* housekeeping_auto + housekeeping */
    KEY_VCPU_MASK,       /* rt_mask_excludes + rt_mask */
};

struct key_def {
    const char *name;
    enum key_type type;
    size_t offset;               /* of the field in struct nst_profile */
    unsigned int min, max;       /* KEY_UINT: the range; KEY_ENUM: max is
                                    the count of names */
    const char *def;             /* default, in profile syntax; NULL: none */
    const char *const *names;    /* KEY_ENUM: the value of each member */
};

/* The enum fields are written as int: the members are small and
 * non-negative, and GCC and Clang give such an enum int's size. */
_Static_assert(sizeof(enum nst_thread_policy) == sizeof(int) &&
               sizeof(enum nst_guest_os) == sizeof(int) &&
               sizeof(enum nst_cpu_mode) == sizeof(int) &&
               sizeof(enum nst_rt_scheduler) == sizeof(int) &&
               sizeof(enum nst_iothreads_mode) == sizeof(int) &&
               sizeof(enum nst_disk_cache) == sizeof(int) &&
               sizeof(enum nst_balloon) == sizeof(int),
               "profile enums are int-sized");

#define FIELD(f) offsetof(struct nst_profile, f)

static const struct key_def keys[] = {
    { "description", KEY_TEXT, FIELD(description), 0, 0, NULL, NULL },
    { "nested", KEY_BOOL, FIELD(nested), 0, 0, "off", NULL },
    { "pinning", KEY_BOOL, FIELD(pinning), 0, 0, "off", NULL },
    { "thread-policy", KEY_ENUM, FIELD(thread_policy), 0, NST_THREAD_LAST,
      "prefer", thread_policy_names },
    { "housekeeping", KEY_HOUSEKEEPING, FIELD(housekeeping), 0, 0, "auto",
      NULL },
    { "split", KEY_BOOL, FIELD(split), 0, 0, "on", NULL },
    { "numa", KEY_BOOL, FIELD(numa), 0, 0, "off", NULL },
    { "hugepages", KEY_BOOL, FIELD(hugepages), 0, 0, "off", NULL },
    { "memtune", KEY_BOOL, FIELD(memtune), 0, 0, "off", NULL },
    { "memtune-overhead-min", KEY_UINT, FIELD(memtune_overhead_min_mib),
      1, 1048576, "512", NULL },
    { "memtune-overhead-percent", KEY_UINT,
      FIELD(memtune_overhead_percent), 0, 100, "10", NULL },
    { "cpu-limits", KEY_BOOL, FIELD(cpu_limits), 0, 0, "off", NULL },
    { "cpu-shares-per-vcpu", KEY_UINT, FIELD(cpu_shares_per_vcpu),
      1, 10000, "100", NULL },
    { "cpu-period", KEY_UINT, FIELD(cpu_period_us), 1000, 1000000,
      "100000", NULL },
    { "cpu-quota-percent", KEY_UINT, FIELD(cpu_quota_percent), 1, 100,
      "100", NULL },
    { "mitigations", KEY_BOOL, FIELD(mitigations), 0, 0, "off", NULL },
    { "guest-os", KEY_ENUM, FIELD(guest_os), 0, NST_GUEST_OS_LAST, "auto",
      guest_os_names },
    { "hyperv", KEY_BOOL, FIELD(hyperv), 0, 0, "off", NULL },
    { "hyperv-evmcs", KEY_BOOL, FIELD(hyperv_evmcs), 0, 0, "on", NULL },
    { "cpu-mode", KEY_ENUM, FIELD(cpu_mode), 0, NST_CPU_MODE_LAST,
      "passthrough", cpu_mode_names },
    { "realtime", KEY_BOOL, FIELD(realtime), 0, 0, "off", NULL },
    { "realtime-scheduler", KEY_ENUM, FIELD(rt_scheduler), 0,
      NST_RT_SCHEDULER_LAST, "fifo", rt_scheduler_names },
    { "realtime-priority", KEY_UINT, FIELD(rt_priority), 1, 99, "1", NULL },
    { "realtime-mask", KEY_VCPU_MASK, FIELD(rt_mask), 0, 0, "^0", NULL },
    { "iothreads", KEY_ENUM, FIELD(iothreads), 0, NST_IOTHREADS_LAST,
      "off", iothreads_names },
    { "iothreads-max", KEY_UINT, FIELD(iothreads_max), 1, 64, "4", NULL },
    { "disk-cache", KEY_ENUM, FIELD(disk_cache), 0, NST_DISK_CACHE_LAST,
      "keep", disk_cache_names },
    { "net-queues", KEY_BOOL, FIELD(net_queues), 0, 0, "off", NULL },
    { "net-queues-max", KEY_UINT, FIELD(net_queues_max), 1, 256, "8", NULL },
    { "balloon", KEY_ENUM, FIELD(balloon), 0, NST_BALLOON_LAST, "keep",
      balloon_names },
};

#undef FIELD

/* A boolean key, or an enum key whose first value is its "off" (keep,
 * off): on when set to any other. */
bool
nsti_profile_switch(const struct nst_profile *p, const char *key)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(keys[i].name, key) != 0)
            continue;
        if (keys[i].type == KEY_BOOL)
            return *(const bool *)((const char *)p + keys[i].offset);
        if (keys[i].type == KEY_ENUM)
            return *(const int *)((const char *)p + keys[i].offset) != 0;
    }
    return false;
}

const char *
nst_guest_os_name(enum nst_guest_os os)
{
    if ((unsigned int)os >= NST_GUEST_OS_LAST)
        return "unknown";
    return guest_os_names[os];
}

/* Spellings of booleans, true ones at even indexes. */
static const char *const bool_words[] = {
    "on", "off", "yes", "no", "true", "false", "1", "0",
};

const char *
nst_thread_policy_name(enum nst_thread_policy policy)
{
    if ((unsigned int)policy >= NST_THREAD_LAST)
        return "unknown";
    return thread_policy_names[policy];
}

const char *
nst_rt_scheduler_name(enum nst_rt_scheduler scheduler)
{
    if ((unsigned int)scheduler >= NST_RT_SCHEDULER_LAST)
        return "unknown";
    return rt_scheduler_names[scheduler];
}

const char *
nst_cpu_mode_name(enum nst_cpu_mode mode)
{
    if ((unsigned int)mode >= NST_CPU_MODE_LAST)
        return "unknown";
    return cpu_mode_names[mode];
}

/*
 * Stores "<origin>:<line>: message" in *err, or "<origin>: message" when
 * line is 0 (a --set has no line).
 */
static void __attribute__((format(printf, 4, 5)))
line_error(char **err, const char *origin, size_t line, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = nst_vprintf(fmt, ap);
    va_end(ap);
    if (!msg) {
        free(*err);
        *err = NULL;
        return;
    }
    if (line)
        nst_set_error(err, "%s:%zu: %s", origin, line, msg);
    else
        nst_set_error(err, "%s: %s", origin, msg);
    free(msg);
}

static char *
dup_string(const char *str)
{
    return str ? nst_printf("%s", str) : NULL;
}

/*
 * Copies src into dst with strings of its own, so that a failed apply
 * can be thrown away leaving the caller's profile as it was.
 */
static int
profile_copy(struct nst_profile *dst, const struct nst_profile *src)
{
    *dst = *src;
    dst->name = dup_string(src->name);
    dst->description = dup_string(src->description);
    dst->housekeeping_origin = dup_string(src->housekeeping_origin);
    if ((src->name && !dst->name) ||
        (src->description && !dst->description) ||
        (src->housekeeping_origin && !dst->housekeeping_origin)) {
        nst_profile_clear(dst);
        return -1;
    }
    return 0;
}

/* Replaces *profile by *tmp, which it takes over. */
static void
profile_commit(struct nst_profile *profile, struct nst_profile *tmp)
{
    nst_profile_clear(profile);
    *profile = *tmp;
}

static int
parse_bool(const char *value, bool *out)
{
    for (size_t i = 0; i < sizeof(bool_words) / sizeof(bool_words[0]); i++) {
        if (strcmp(value, bool_words[i]) == 0) {
            *out = i % 2 == 0;
            return 0;
        }
    }
    return -1;
}

/* "a, b or c" for the n names; NULL when out of memory. */
static char *
expected_names(const char *const *names, unsigned int n)
{
    char *text = nst_printf("%s", names[0]);
    for (unsigned int i = 1; text && i < n; i++) {
        char *longer = nst_printf("%s%s%s", text, i + 1 < n ? ", " : " or ",
                                  names[i]);
        free(text);
        text = longer;
    }
    return text;
}

/* Returns a new "(expected ...)" text for def, NULL when out of memory. */
static char *
expected_text(const struct key_def *def)
{
    switch (def->type) {
    case KEY_BOOL:
        return nst_printf("on or off");
    case KEY_UINT:
        return nst_printf("a whole number from %u to %u", def->min, def->max);
    case KEY_HOUSEKEEPING:
        return nst_printf("auto or a cpu list such as 0-1,28-29");
    case KEY_VCPU_MASK:
        return nst_printf("a vCPU list such as 1-3, or exclusions "
                          "only such as ^0");
    case KEY_ENUM:
        return expected_names(def->names, def->max);
    case KEY_TEXT:
        break;
    }
    return nst_printf("text");
}

/*
 * realtime-mask, libvirt's cpuset syntax over vCPU ids as Nova's
 * hw:cpu_realtime_mask and KubeVirt's realtime mask take it: a list of
 * exclusions only ("^0", "^0,^4") means every vCPU of the guest but
 * those (the guest's size is known only when applied), anything else is
 * the realtime vCPUs themselves ("1-3", "0-3,^1").  A list that leaves
 * no vCPU ("0,^0") is refused here.
 */
static int
parse_vcpu_mask(const char *value, bool *excludes, struct nst_cpuset *set)
{
    bool only_exclusions = *value == '^';
    for (const char *c = value; *c && only_exclusions; c++)
        if (*c == ',' && c[1] != '^')
            only_exclusions = false;
    if (!only_exclusions)
        return nst_cpuset_parse(value, set, NULL) < 0 ||
               nst_cpuset_is_empty(set) ? -1 : (*excludes = false, 0);
    /* "^0,^4" is the set "0,4" taken away from all of them. */
    char *plain = nst_printf("%s", value);
    char *out = plain;
    if (!plain)
        return -1;
    for (const char *c = value; *c; c++)
        if (*c != '^')
            *out++ = *c;
    *out = '\0';
    int ret = nst_cpuset_parse(plain, set, NULL);
    free(plain);
    if (ret < 0)
        return -1;
    *excludes = true;
    return 0;
}

/*
 * housekeeping = auto | CPULIST, keeping where a list was set for the
 * later error when the host lacks one of its CPUs.  Returns 0, -1 for
 * an invalid value, -2 when out of memory.
 */
static int
set_housekeeping(struct nst_profile *profile, const struct key_def *def,
                 const char *value, const char *origin, size_t line)
{
    char *where = NULL;

    if (strcmp(value, "auto") == 0) {
        profile->housekeeping_auto = true;
        nst_cpuset_clear_all(&profile->housekeeping);
    } else {
        struct nst_cpuset set;
        /* An empty set ("0,^0") would leave nowhere for the emulator. */
        if (nst_cpuset_parse(value, &set, NULL) < 0 ||
            nst_cpuset_is_empty(&set))
            return -1;
        /* Whether the host has these CPUs is known only when the
         * profile is applied (nst_apply), which names this place. */
        where = line ? nst_printf("%s:%zu: %s", origin, line, def->name)
                     : nst_printf("%s %s=%s", origin, def->name, value);
        if (!where)
            return -2;
        profile->housekeeping_auto = false;
        profile->housekeeping = set;
    }
    free(profile->housekeeping_origin);
    profile->housekeeping_origin = where;
    return 0;
}

/*
 * Parses value for def into profile.  Returns 0, or -1 with *err set
 * (origin and line as for line_error).
 */
static int
set_value(struct nst_profile *profile, const struct key_def *def,
          const char *value, const char *origin, size_t line, char **err)
{
    char *field = (char *)profile + def->offset;

    switch (def->type) {
    case KEY_TEXT: {
        char *copy = NULL;
        /* An empty description is no description. */
        if (*value && !(copy = dup_string(value)))
            goto oom;
        char **str = (char **)(void *)field;
        free(*str);
        *str = copy;
        return 0;
    }
    case KEY_BOOL:
        if (parse_bool(value, (bool *)(void *)field) < 0)
            goto invalid;
        return 0;
    case KEY_UINT: {
        unsigned long long n;
        if (nst_parse_ull(value, def->max, &n) < 0 || n < def->min)
            goto invalid;
        *(unsigned int *)(void *)field = (unsigned int)n;
        return 0;
    }
    case KEY_ENUM: {
        unsigned int i = 0;
        while (i < def->max && strcmp(value, def->names[i]) != 0)
            i++;
        if (i == def->max)
            goto invalid;
        *(int *)(void *)field = (int)i;
        return 0;
    }
    case KEY_HOUSEKEEPING:
        switch (set_housekeeping(profile, def, value, origin, line)) {
        case -1:
            goto invalid;
        case -2:
            goto oom;
        }
        return 0;
    case KEY_VCPU_MASK:
        if (parse_vcpu_mask(value, &profile->rt_mask_excludes,
                            &profile->rt_mask) < 0)
            goto invalid;
        return 0;
    }

 invalid: {
        char *expected = expected_text(def);
        if (!expected)
            goto oom;
        line_error(err, origin, line, "invalid value '%s' for '%s' "
                   "(expected %s)", value, def->name, expected);
        free(expected);
        return -1;
    }
 oom:
    nst_set_error(err, "out of memory");
    return -1;
}

static const struct key_def *
find_key(const char *name)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

int
nst_profile_init(struct nst_profile *profile)
{
    memset(profile, 0, sizeof(*profile));
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (!keys[i].def)
            continue;
        /* Cannot fail: the defaults are valid and allocate nothing. */
        if (set_value(profile, &keys[i], keys[i].def, "default", 0,
                      NULL) < 0)
            return -1;
    }
    return 0;
}

void
nst_profile_clear(struct nst_profile *profile)
{
    if (!profile)
        return;
    free(profile->name);
    profile->name = NULL;
    free(profile->description);
    profile->description = NULL;
    free(profile->housekeeping_origin);
    profile->housekeeping_origin = NULL;
}

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates). */
static bool
valid_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t more;
        uint32_t cp, min;

        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            more = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            more = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            more = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return false;
        }
        if (len - i - 1 < more)
            return false;
        for (size_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += more + 1;
    }
    return true;
}

/*
 * Refuses bytes that cannot be in a profile line: NUL, invalid UTF-8 and
 * control characters other than tab (a description ends up on terminals
 * and in reports).
 */
static int
check_bytes(const char *text, size_t len, const char *origin, size_t line,
            char **err)
{
    if (len > MAX_LINE) {
        line_error(err, origin, line, "line is longer than %d bytes",
                   MAX_LINE);
        return -1;
    }
    if (memchr(text, '\0', len)) {
        line_error(err, origin, line, "contains a NUL byte");
        return -1;
    }
    if (!valid_utf8((const unsigned char *)text, len)) {
        line_error(err, origin, line, "invalid UTF-8");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            line_error(err, origin, line, "contains control character 0x%02x",
                       c);
            return -1;
        }
    }
    return 0;
}

/*
 * Applies one line text[0..len) to profile.  line is its number in a
 * profile text, or 0 for a --set assignment, which has no comments or
 * blank lines.  On failure profile may be half changed: callers work on
 * a copy.
 */
static int
apply_line(struct nst_profile *profile, const char *text, size_t len,
           const char *origin, size_t line, char **err)
{
    if (check_bytes(text, len, origin, line, err) < 0)
        return -1;

    const char *start = text, *end = text + len;
    while (start < end && is_blank(*start))
        start++;
    while (end > start && is_blank(end[-1]))
        end--;
    if (line && (start == end || *start == '#'))
        return 0;

    const char *eq = memchr(start, '=', (size_t)(end - start));
    const char *key_end = eq;
    while (eq && key_end > start && is_blank(key_end[-1]))
        key_end--;
    if (!eq || key_end == start) {
        line_error(err, origin, line, "expected '%s'",
                   line ? "key = value" : "key=value");
        return -1;
    }
    const char *value = eq + 1;
    while (value < end && is_blank(*value))
        value++;

    int ret = -1;
    char *key_str = nst_printf("%.*s", (int)(key_end - start), start);
    char *value_str = nst_printf("%.*s", (int)(end - value), value);
    if (!key_str || !value_str) {
        nst_set_error(err, "out of memory");
        goto cleanup;
    }
    const struct key_def *def = find_key(key_str);
    if (!def) {
        line_error(err, origin, line, "unknown key '%s'", key_str);
        goto cleanup;
    }
    ret = set_value(profile, def, value_str, origin, line, err);

 cleanup:
    free(key_str);
    free(value_str);
    return ret;
}

int
nst_profile_set(struct nst_profile *profile, const char *assignment,
                const char *origin, char **err)
{
    struct nst_profile tmp;

    if (!assignment) {
        line_error(err, origin, 0, "expected 'key=value'");
        return -1;
    }
    if (profile_copy(&tmp, profile) < 0) {
        nst_set_error(err, "out of memory");
        return -1;
    }
    if (apply_line(&tmp, assignment, strlen(assignment), origin, 0,
                   err) < 0) {
        nst_profile_clear(&tmp);
        return -1;
    }
    profile_commit(profile, &tmp);
    return 0;
}

int
nst_profile_apply_text(struct nst_profile *profile,
                       const struct nst_profile_source *src, char **err)
{
    struct nst_profile tmp;

    if (!src || (!src->text && src->len)) {
        nst_set_error(err, "no profile text");
        return -1;
    }
    const char *origin = src->origin ? src->origin :
                         src->name ? src->name : "profile";
    const char *p = src->text, *end = src->text + src->len;

    /* Editors on some systems start UTF-8 files with a byte order mark. */
    if (src->len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;

    if (profile_copy(&tmp, profile) < 0) {
        nst_set_error(err, "out of memory");
        return -1;
    }
    for (size_t line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        size_t len = (size_t)(line_end - p);
        /* CRLF files: the CR belongs to the line break, not the value. */
        if (len && p[len - 1] == '\r')
            len--;
        if (apply_line(&tmp, p, len, origin, line, err) < 0) {
            nst_profile_clear(&tmp);
            return -1;
        }
        p = nl ? nl + 1 : end;
    }
    profile_commit(profile, &tmp);
    return 0;
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Returns a new "a, b, c" list of the sources' names, sorted and without
 * duplicates, or "none"; NULL when out of memory.
 */
static char *
known_names(const struct nst_profile_source *sources, size_t nsources)
{
    struct nst_buf buf = { 0 };
    const char **names = calloc(nsources ? nsources : 1, sizeof(*names));
    size_t n = 0;

    if (!names)
        return NULL;
    for (size_t i = 0; i < nsources; i++)
        if (sources[i].name)
            names[n++] = sources[i].name;
    qsort(names, n, sizeof(*names), compare_names);
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(names[i], names[i - 1]) == 0)
            continue;
        if (buf.len)
            nst_buf_adds(&buf, ", ");
        nst_buf_adds(&buf, names[i]);
    }
    if (!n)
        nst_buf_adds(&buf, "none");
    free(names);
    return nst_buf_finish(&buf, NULL);
}

/* The last source named name[0..len), or NULL. */
static const struct nst_profile_source *
find_source(const char *name, size_t len,
            const struct nst_profile_source *sources, size_t nsources)
{
    for (size_t i = nsources; i-- > 0;) {
        const char *s = sources[i].name;
        if (s && strlen(s) == len && memcmp(s, name, len) == 0)
            return &sources[i];
    }
    return NULL;
}

struct name_range {
    const char *start;
    size_t len;
};

/*
 * Splits names at commas into ranges without surrounding blanks, looks
 * each up and refuses empty and repeated names.  Returns the number of
 * names with *out and *picked set (caller frees both), or -1 with *err.
 */
static long
split_names(const char *names, const struct nst_profile_source *sources,
            size_t nsources, struct name_range **out,
            const struct nst_profile_source ***picked, char **err)
{
    size_t max = 1;
    for (const char *c = names; *c; c++)
        if (*c == ',')
            max++;

    struct name_range *ranges = calloc(max, sizeof(*ranges));
    const struct nst_profile_source **srcs = calloc(max, sizeof(*srcs));
    if (!ranges || !srcs) {
        nst_set_error(err, "out of memory");
        goto error;
    }

    size_t n = 0;
    const char *p = names;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        while (p < end && is_blank(*p))
            p++;
        while (end > p && is_blank(end[-1]))
            end--;
        size_t len = (size_t)(end - p);

        if (!len) {
            nst_set_error(err, "empty profile name in '%s'", names);
            goto error;
        }
        for (size_t i = 0; i < n; i++) {
            if (ranges[i].len == len && memcmp(ranges[i].start, p, len) == 0) {
                nst_set_error(err, "profile '%.*s' is given twice",
                              (int)len, p);
                goto error;
            }
        }
        srcs[n] = find_source(p, len, sources, nsources);
        if (!srcs[n]) {
            char *known = known_names(sources, nsources);
            if (!known)
                nst_set_error(err, "out of memory");
            else
                nst_set_error(err, "unknown profile '%.*s' (known: %s)",
                              (int)len, p, known);
            free(known);
            goto error;
        }
        ranges[n].start = p;
        ranges[n].len = len;
        n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    *out = ranges;
    *picked = srcs;
    return (long)n;

 error:
    free(ranges);
    free(srcs);
    return -1;
}

int
nst_profile_compose(struct nst_profile *profile, const char *names,
                    const struct nst_profile_source *sources,
                    size_t nsources, char **err)
{
    struct name_range *ranges = NULL;
    const struct nst_profile_source **picked = NULL;
    struct nst_buf joined_names = { 0 }, joined_desc = { 0 };
    struct nst_profile tmp;
    int ret = -1;

    if (!names) {
        nst_set_error(err, "no profile given");
        return -1;
    }
    long n = split_names(names, sources, nsources, &ranges, &picked, err);
    if (n < 0)
        return -1;
    if (profile_copy(&tmp, profile) < 0) {
        nst_set_error(err, "out of memory");
        goto cleanup;
    }

    for (long i = 0; i < n; i++) {
        /* Start without one, to see whether this profile sets its own. */
        free(tmp.description);
        tmp.description = NULL;
        if (nst_profile_apply_text(&tmp, picked[i], err) < 0) {
            nst_profile_clear(&tmp);
            goto cleanup;
        }
        if (i)
            nst_buf_adds(&joined_names, ",");
        nst_buf_add(&joined_names, ranges[i].start, ranges[i].len);
        if (tmp.description) {
            if (joined_desc.len)
                nst_buf_adds(&joined_desc, "; ");
            nst_buf_adds(&joined_desc, tmp.description);
        }
    }

    /* The composed name and description replace the last part's; the
     * rest of tmp (housekeeping_origin too) is the result. */
    free(tmp.name);
    free(tmp.description);
    bool has_desc = joined_desc.len > 0;
    tmp.name = nst_buf_finish(&joined_names, NULL);
    tmp.description = has_desc ? nst_buf_finish(&joined_desc, NULL) : NULL;
    if (!tmp.name || (has_desc && !tmp.description)) {
        nst_profile_clear(&tmp);
        nst_set_error(err, "out of memory");
        goto cleanup;
    }
    profile_commit(profile, &tmp);
    ret = 0;

 cleanup:
    free(joined_names.data);
    free(joined_desc.data);
    free(ranges);
    free(picked);
    return ret;
}

/* The placement rules' housekeeping CPUs, and the map's. */
void
nst_profile_housekeeping(const struct nst_profile *profile,
                         const struct nst_host *host, struct nst_cpuset *out)
{
    if (!profile || profile->housekeeping_auto)
        nst_host_default_housekeeping(host, out);
    else
        *out = profile->housekeeping;
}
