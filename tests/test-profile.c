/*
 * test-profile.c: profile texts, --set, composition and the built-ins
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

/* Every key, kept here on purpose apart from profile.c's own table. */
static const char *const all_keys[] = {
    "description", "nested", "pinning", "thread-policy", "housekeeping",
    "split", "numa", "hugepages", "memtune", "memtune-overhead-min",
    "memtune-overhead-percent", "cpu-limits", "cpu-shares-per-vcpu",
    "cpu-period", "cpu-quota-percent", "mitigations", "guest-os", "hyperv",
    "hyperv-evmcs", "realtime", "realtime-scheduler", "realtime-priority",
    "realtime-mask",
};
#define NKEYS (sizeof(all_keys) / sizeof(all_keys[0]))

static const char *
onoff(bool value)
{
    return value ? "on" : "off";
}

/* The value a profile holds for key, in profile syntax; caller frees. */
static char *
field_text(const struct nst_profile *p, const char *key)
{
    if (strcmp(key, "name") == 0)
        return nst_printf("%s", p->name ? p->name : "(none)");
    if (strcmp(key, "description") == 0)
        return nst_printf("%s", p->description ? p->description : "(none)");
    if (strcmp(key, "nested") == 0)
        return nst_printf("%s", onoff(p->nested));
    if (strcmp(key, "pinning") == 0)
        return nst_printf("%s", onoff(p->pinning));
    if (strcmp(key, "thread-policy") == 0)
        return nst_printf("%s", nst_thread_policy_name(p->thread_policy));
    if (strcmp(key, "housekeeping") == 0) {
        if (p->housekeeping_auto) {
            /* auto must not leave a stale list behind */
            ck_assert(nst_cpuset_is_empty(&p->housekeeping));
            return nst_printf("auto");
        }
        return nst_cpuset_format(&p->housekeeping);
    }
    if (strcmp(key, "split") == 0)
        return nst_printf("%s", onoff(p->split));
    if (strcmp(key, "numa") == 0)
        return nst_printf("%s", onoff(p->numa));
    if (strcmp(key, "hugepages") == 0)
        return nst_printf("%s", onoff(p->hugepages));
    if (strcmp(key, "memtune") == 0)
        return nst_printf("%s", onoff(p->memtune));
    if (strcmp(key, "memtune-overhead-min") == 0)
        return nst_printf("%u", p->memtune_overhead_min_mib);
    if (strcmp(key, "memtune-overhead-percent") == 0)
        return nst_printf("%u", p->memtune_overhead_percent);
    if (strcmp(key, "guest-os") == 0)
        return nst_printf("%s", nst_guest_os_name(p->guest_os));
    if (strcmp(key, "hyperv") == 0)
        return nst_printf("%s", onoff(p->hyperv));
    if (strcmp(key, "hyperv-evmcs") == 0)
        return nst_printf("%s", onoff(p->hyperv_evmcs));
    if (strcmp(key, "cpu-limits") == 0)
        return nst_printf("%s", onoff(p->cpu_limits));
    if (strcmp(key, "cpu-shares-per-vcpu") == 0)
        return nst_printf("%u", p->cpu_shares_per_vcpu);
    if (strcmp(key, "cpu-period") == 0)
        return nst_printf("%u", p->cpu_period_us);
    if (strcmp(key, "cpu-quota-percent") == 0)
        return nst_printf("%u", p->cpu_quota_percent);
    if (strcmp(key, "mitigations") == 0)
        return nst_printf("%s", onoff(p->mitigations));
    if (strcmp(key, "realtime") == 0)
        return nst_printf("%s", onoff(p->realtime));
    if (strcmp(key, "realtime-scheduler") == 0)
        return nst_printf("%s", nst_rt_scheduler_name(p->rt_scheduler));
    if (strcmp(key, "realtime-priority") == 0)
        return nst_printf("%u", p->rt_priority);
    if (strcmp(key, "realtime-mask") == 0) {
        /* Exclusions shown as such: "^0,^2-3" keeps its meaning. */
        char *set = nst_cpuset_format(&p->rt_mask);
        if (!p->rt_mask_excludes)
            return set;
        struct nst_buf buf = { 0 };
        for (const char *c = set; *c; c++) {
            if (c == set || c[-1] == ',')
                nst_buf_adds(&buf, "^");
            nst_buf_add(&buf, c, 1);
        }
        free(set);
        return nst_buf_finish(&buf, NULL);
    }
    ck_abort_msg("no such key %s", key);
    return NULL;
}

/*
 * Every field of p as "key=value" lines, with key "over" shown as
 * over_value instead (so a test can say "the defaults except this").
 */
static char *
dump_with(const struct nst_profile *p, const char *over,
          const char *over_value)
{
    struct nst_buf buf = { 0 };
    char *name = field_text(p, "name");
    nst_buf_addf(&buf, "name=%s\n", name);
    free(name);
    for (size_t i = 0; i < NKEYS; i++) {
        if (over && strcmp(over, all_keys[i]) == 0) {
            nst_buf_addf(&buf, "%s=%s\n", all_keys[i], over_value);
            continue;
        }
        char *value = field_text(p, all_keys[i]);
        ck_assert_ptr_nonnull(value);
        nst_buf_addf(&buf, "%s=%s\n", all_keys[i], value);
        free(value);
    }
    char *out = nst_buf_finish(&buf, NULL);
    ck_assert_ptr_nonnull(out);
    return out;
}

static char *
dump(const struct nst_profile *p)
{
    return dump_with(p, NULL, NULL);
}

static void
assert_dump(const struct nst_profile *p, const char *expected)
{
    char *got = dump(p);
    ck_assert_str_eq(got, expected);
    free(got);
}

/* Applies text (NUL-terminated) from origin "t.profile". */
static int
apply(struct nst_profile *p, const char *text, char **err)
{
    struct nst_profile_source src = { "t", "t.profile", text, strlen(text) };
    return nst_profile_apply_text(p, &src, err);
}

static void
assert_apply_error(const char *text, size_t len, const char *expected)
{
    struct nst_profile p;
    struct nst_profile_source src = { "t", "t.profile", text, len };
    char *err = NULL;

    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_apply_text(&p, &src, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_str_eq(err, expected);
    free(err);
    nst_profile_clear(&p);
}

static const char defaults_dump[] =
    "name=(none)\n"
    "description=(none)\n"
    "nested=off\n"
    "pinning=off\n"
    "thread-policy=prefer\n"
    "housekeeping=auto\n"
    "split=on\n"
    "numa=off\n"
    "hugepages=off\n"
    "memtune=off\n"
    "memtune-overhead-min=512\n"
    "memtune-overhead-percent=10\n"
    "cpu-limits=off\n"
    "cpu-shares-per-vcpu=100\n"
    "cpu-period=100000\n"
    "cpu-quota-percent=100\n"
    "mitigations=off\n"
    "guest-os=auto\n"
    "hyperv=off\n"
    "hyperv-evmcs=on\n"
    "realtime=off\n"
    "realtime-scheduler=fifo\n"
    "realtime-priority=1\n"
    "realtime-mask=^0\n";

START_TEST(test_thread_policy_name)
{
    ck_assert_str_eq(nst_thread_policy_name(NST_THREAD_PREFER), "prefer");
    ck_assert_str_eq(nst_thread_policy_name(NST_THREAD_ISOLATE), "isolate");
    ck_assert_str_eq(nst_thread_policy_name(NST_THREAD_REQUIRE), "require");
    ck_assert_str_eq(nst_thread_policy_name(NST_THREAD_LAST), "unknown");
    ck_assert_str_eq(nst_thread_policy_name((enum nst_thread_policy)-1),
                     "unknown");
    ck_assert_str_eq(nst_guest_os_name(NST_GUEST_OS_WINDOWS), "windows");
    ck_assert_str_eq(nst_guest_os_name(NST_GUEST_OS_LAST), "unknown");
}
END_TEST

START_TEST(test_defaults)
{
    struct nst_profile p;

    /* Garbage first, so init must really set every field. */
    memset(&p, 0xa5, sizeof(p));
    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_ptr_null(p.name);
    ck_assert_ptr_null(p.description);
    ck_assert(p.housekeeping_auto);
    ck_assert(nst_cpuset_is_empty(&p.housekeeping));
    assert_dump(&p, defaults_dump);
    nst_profile_clear(&p);
    ck_assert_ptr_null(p.name);
    ck_assert_ptr_null(p.description);
    nst_profile_clear(NULL);
}
END_TEST

/*
 * One good assignment: the value its key holds before (NULL: the
 * default), and the value it then shows; nothing else may change.
 */
struct good_case {
    const char *line;
    const char *key;
    const char *from;
    const char *shown;
};

static const struct good_case good_cases[] = {
    { "description = A quick guest", "description", NULL, "A quick guest" },
    { "description = a=b # not a comment", "description", NULL,
      "a=b # not a comment" },
    { "description = Prüfung ✓ 検査", "description", NULL, "Prüfung ✓ 検査" },
    { "description =", "description", "before", "(none)" },
    { "nested = on", "nested", NULL, "on" },
    { "nested = yes", "nested", NULL, "on" },
    { "nested = true", "nested", NULL, "on" },
    { "nested = 1", "nested", NULL, "on" },
    { "nested = off", "nested", "on", "off" },
    { "pinning = on", "pinning", NULL, "on" },
    { "thread-policy = isolate", "thread-policy", NULL, "isolate" },
    { "thread-policy = require", "thread-policy", NULL, "require" },
    { "thread-policy = prefer", "thread-policy", "require", "prefer" },
    { "housekeeping = 0,28", "housekeeping", NULL, "0,28" },
    { "housekeeping = 0-3,^1", "housekeeping", NULL, "0,2-3" },
    { "housekeeping = 4095", "housekeeping", NULL, "4095" },
    { "housekeeping = auto", "housekeeping", "1-2", "auto" },
    { "split = off", "split", NULL, "off" },
    { "split = no", "split", NULL, "off" },
    { "split = false", "split", NULL, "off" },
    { "split = 0", "split", NULL, "off" },
    { "split = on", "split", "off", "on" },
    { "numa = on", "numa", NULL, "on" },
    { "hugepages = on", "hugepages", NULL, "on" },
    { "memtune = on", "memtune", NULL, "on" },
    { "memtune-overhead-min = 1", "memtune-overhead-min", NULL, "1" },
    { "memtune-overhead-min = 1048576", "memtune-overhead-min", NULL,
      "1048576" },
    { "memtune-overhead-percent = 0", "memtune-overhead-percent", NULL,
      "0" },
    { "memtune-overhead-percent = 100", "memtune-overhead-percent", NULL,
      "100" },
    { "cpu-limits = on", "cpu-limits", NULL, "on" },
    { "cpu-shares-per-vcpu = 1", "cpu-shares-per-vcpu", NULL, "1" },
    { "cpu-shares-per-vcpu = 10000", "cpu-shares-per-vcpu", NULL,
      "10000" },
    { "cpu-period = 1000", "cpu-period", NULL, "1000" },
    { "cpu-period = 1000000", "cpu-period", NULL, "1000000" },
    { "cpu-quota-percent = 1", "cpu-quota-percent", NULL, "1" },
    { "cpu-quota-percent = 100", "cpu-quota-percent", "50", "100" },
    { "cpu-quota-percent = 050", "cpu-quota-percent", NULL, "50" },
    { "mitigations = on", "mitigations", NULL, "on" },
    { "guest-os = windows", "guest-os", NULL, "windows" },
    { "guest-os = other", "guest-os", NULL, "other" },
    { "guest-os = auto", "guest-os", "other", "auto" },
    { "hyperv = on", "hyperv", NULL, "on" },
    { "hyperv-evmcs = off", "hyperv-evmcs", NULL, "off" },
    { "realtime = on", "realtime", NULL, "on" },
    { "realtime-scheduler = rr", "realtime-scheduler", NULL, "rr" },
    { "realtime-scheduler = fifo", "realtime-scheduler", "rr", "fifo" },
    { "realtime-priority = 99", "realtime-priority", NULL, "99" },
    { "realtime-priority = 1", "realtime-priority", "50", "1" },
    /* Exclusions only: every vCPU but these (Nova's "^0"). */
    { "realtime-mask = ^0-1", "realtime-mask", NULL, "^0-1" },
    { "realtime-mask = ^0,^4", "realtime-mask", NULL, "^0,^4" },
    /* Anything else: the realtime vCPUs themselves (KubeVirt's). */
    { "realtime-mask = 1-3", "realtime-mask", NULL, "1-3" },
    { "realtime-mask = 0-3,^1", "realtime-mask", NULL, "0,2-3" },
    { "realtime-mask = ^0,2", "realtime-mask", NULL, "2" },
    { "realtime-mask = ^0", "realtime-mask", "1", "^0" },
};
#define NGOOD (sizeof(good_cases) / sizeof(good_cases[0]))

/* Gives c's key its "from" value, so that the case must change it. */
static void
set_from(struct nst_profile *p, const struct good_case *c)
{
    char *err = NULL;
    if (c->from) {
        char *assignment = nst_printf("%s=%s", c->key, c->from);
        ck_assert_int_eq(nst_profile_set(p, assignment, "--set", &err), 0);
        free(assignment);
    }
    char *now = field_text(p, c->key);
    ck_assert_str_ne(now, c->shown);
    free(now);
}

/* Each good case, from a file (after a comment and a blank line). */
START_TEST(test_good_value_file)
{
    const struct good_case *c = &good_cases[_i];
    struct nst_profile p, defaults;
    char *err = NULL;

    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_init(&defaults), 0);
    set_from(&p, c);
    char *text = nst_printf("# a comment\n\n%s\n", c->line);
    ck_assert_int_eq(apply(&p, text, &err), 0);
    ck_assert_ptr_null(err);

    char *expected = dump_with(&defaults, c->key, c->shown);
    char *got = dump(&p);
    ck_assert_str_eq(got, expected);
    free(expected);
    free(got);
    free(text);
    nst_profile_clear(&p);
    nst_profile_clear(&defaults);
}
END_TEST

/* The same assignment, given as --set KEY=VALUE. */
START_TEST(test_good_value_set)
{
    const struct good_case *c = &good_cases[_i];
    struct nst_profile p, defaults;
    char *err = NULL;

    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_init(&defaults), 0);
    set_from(&p, c);
    /* --set is usually written without spaces. */
    struct nst_buf buf = { 0 };
    for (const char *s = c->line; *s; s++) {
        if (*s == ' ' && (s[1] == '=' || (s > c->line && s[-1] == '=')))
            continue;
        nst_buf_add(&buf, s, 1);
    }
    char *assignment = nst_buf_finish(&buf, NULL);
    ck_assert_ptr_nonnull(assignment);
    ck_assert_int_eq(nst_profile_set(&p, assignment, "--set", &err), 0);
    ck_assert_ptr_null(err);

    char *expected = dump_with(&defaults, c->key, c->shown);
    char *got = dump(&p);
    ck_assert_str_eq(got, expected);
    free(expected);
    free(got);
    free(assignment);
    nst_profile_clear(&p);
    nst_profile_clear(&defaults);
}
END_TEST

/* One bad assignment and the message after "<origin>:<line>: ". */
struct bad_case {
    const char *line;
    const char *message;
};

#define BOOL_MSG(v, k) \
    "invalid value '" v "' for '" k "' (expected on or off)"
#define UINT_MSG(v, k, range) \
    "invalid value '" v "' for '" k "' (expected a whole number from " \
    range ")"
#define HK_MSG(v) \
    "invalid value '" v "' for 'housekeeping' " \
    "(expected auto or a cpu list such as 0-1,28-29)"

#define RTMASK_MSG(v) \
    "invalid value '" v "' for 'realtime-mask' " \
    "(expected a vCPU list such as 1-3, or exclusions only such as ^0)"

static const struct bad_case bad_cases[] = {
    { "foo = 1", "unknown key 'foo'" },
    { "Nested = on", "unknown key 'Nested'" },
    { "nested_ = on", "unknown key 'nested_'" },
    { "nested = maybe", BOOL_MSG("maybe", "nested") },
    { "nested = ON", BOOL_MSG("ON", "nested") },
    { "nested =", BOOL_MSG("", "nested") },
    { "nested = on # trailing comment",
      BOOL_MSG("on # trailing comment", "nested") },
    { "pinning = 2", BOOL_MSG("2", "pinning") },
    { "thread-policy = spread",
      "invalid value 'spread' for 'thread-policy' "
      "(expected prefer, isolate or require)" },
    { "thread-policy = Prefer",
      "invalid value 'Prefer' for 'thread-policy' "
      "(expected prefer, isolate or require)" },
    { "guest-os = Windows",
      "invalid value 'Windows' for 'guest-os' "
      "(expected auto, windows or other)" },
    { "guest-os = linux",
      "invalid value 'linux' for 'guest-os' "
      "(expected auto, windows or other)" },
    { "hyperv-evmcs = maybe", BOOL_MSG("maybe", "hyperv-evmcs") },
    { "housekeeping = x", HK_MSG("x") },
    { "housekeeping =", HK_MSG("") },
    { "housekeeping = 4096", HK_MSG("4096") },
    { "housekeeping = 3-1", HK_MSG("3-1") },
    { "housekeeping = 0,^0", HK_MSG("0,^0") },
    { "housekeeping = Auto", HK_MSG("Auto") },
    { "split = nope", BOOL_MSG("nope", "split") },
    { "numa = enabled", BOOL_MSG("enabled", "numa") },
    { "hugepages = 2M", BOOL_MSG("2M", "hugepages") },
    { "memtune = offf", BOOL_MSG("offf", "memtune") },
    { "memtune-overhead-min = 0",
      UINT_MSG("0", "memtune-overhead-min", "1 to 1048576") },
    { "memtune-overhead-min = 1048577",
      UINT_MSG("1048577", "memtune-overhead-min", "1 to 1048576") },
    { "memtune-overhead-min = -1",
      UINT_MSG("-1", "memtune-overhead-min", "1 to 1048576") },
    { "memtune-overhead-min = +5",
      UINT_MSG("+5", "memtune-overhead-min", "1 to 1048576") },
    { "memtune-overhead-min = 512 MiB",
      UINT_MSG("512 MiB", "memtune-overhead-min", "1 to 1048576") },
    { "memtune-overhead-min = 99999999999999999999999",
      UINT_MSG("99999999999999999999999", "memtune-overhead-min",
               "1 to 1048576") },
    { "memtune-overhead-percent = 101",
      UINT_MSG("101", "memtune-overhead-percent", "0 to 100") },
    { "memtune-overhead-percent = 0x10",
      UINT_MSG("0x10", "memtune-overhead-percent", "0 to 100") },
    { "cpu-limits = of", BOOL_MSG("of", "cpu-limits") },
    { "cpu-shares-per-vcpu = 0",
      UINT_MSG("0", "cpu-shares-per-vcpu", "1 to 10000") },
    { "cpu-shares-per-vcpu = 10001",
      UINT_MSG("10001", "cpu-shares-per-vcpu", "1 to 10000") },
    { "cpu-period = 999", UINT_MSG("999", "cpu-period", "1000 to 1000000") },
    { "cpu-period = 1000001",
      UINT_MSG("1000001", "cpu-period", "1000 to 1000000") },
    { "cpu-quota-percent = 0",
      UINT_MSG("0", "cpu-quota-percent", "1 to 100") },
    { "cpu-quota-percent = 101",
      UINT_MSG("101", "cpu-quota-percent", "1 to 100") },
    { "cpu-quota-percent = 1.5",
      UINT_MSG("1.5", "cpu-quota-percent", "1 to 100") },
    { "mitigations = offf", BOOL_MSG("offf", "mitigations") },
    { "realtime = rt", BOOL_MSG("rt", "realtime") },
    { "realtime-scheduler = other",
      "invalid value 'other' for 'realtime-scheduler' "
      "(expected fifo or rr)" },
    { "realtime-scheduler = FIFO",
      "invalid value 'FIFO' for 'realtime-scheduler' "
      "(expected fifo or rr)" },
    { "realtime-priority = 0",
      UINT_MSG("0", "realtime-priority", "1 to 99") },
    { "realtime-priority = 100",
      UINT_MSG("100", "realtime-priority", "1 to 99") },
    { "realtime-mask = 0,^0", RTMASK_MSG("0,^0") },
    { "realtime-mask =", RTMASK_MSG("") },
    { "realtime-mask = ^", RTMASK_MSG("^") },
    { "realtime-mask = ^x", RTMASK_MSG("^x") },
    { "realtime-mask = ^0,^", RTMASK_MSG("^0,^") },
    { "realtime-mask = 4096", RTMASK_MSG("4096") },
    { "realtime-mask = all", RTMASK_MSG("all") },
};
#define NBAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

/* Each bad case on line 4 of a file: the profile must stay untouched. */
START_TEST(test_bad_value_file)
{
    const struct bad_case *c = &bad_cases[_i];
    struct nst_profile p;
    char *err = NULL;

    ck_assert_int_eq(nst_profile_init(&p), 0);
    char *text = nst_printf("# comment\n\ndescription = kept?\n%s\n"
                            "pinning = on\n", c->line);
    ck_assert_int_eq(apply(&p, text, &err), -1);
    ck_assert_ptr_nonnull(err);
    char *expected = nst_printf("t.profile:4: %s", c->message);
    ck_assert_str_eq(err, expected);
    assert_dump(&p, defaults_dump);
    free(expected);
    free(text);
    free(err);
    nst_profile_clear(&p);
}
END_TEST

START_TEST(test_bad_value_set)
{
    const struct bad_case *c = &bad_cases[_i];
    struct nst_profile p;
    char *err = NULL;

    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_set(&p, "description=before", "--set", &err), 0);
    ck_assert_int_eq(nst_profile_set(&p, c->line, "--set", &err), -1);
    ck_assert_ptr_nonnull(err);
    char *expected = nst_printf("--set: %s", c->message);
    ck_assert_str_eq(err, expected);
    ck_assert_str_eq(p.description, "before");
    free(expected);
    free(err);
    nst_profile_clear(&p);
}
END_TEST

START_TEST(test_set_form)
{
    struct nst_profile p;
    char *err = NULL;

    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_set(&p, "hugepages=on", "--set", &err), 0);
    ck_assert_int_eq(nst_profile_set(&p, " cpu-period = 2000 ", "--set", &err), 0);
    ck_assert_int_eq(nst_profile_set(&p, "description=x=y", "--set", &err), 0);
    ck_assert(p.hugepages);
    ck_assert_uint_eq(p.cpu_period_us, 2000);
    ck_assert_str_eq(p.description, "x=y");
    /* A later --set wins. */
    ck_assert_int_eq(nst_profile_set(&p, "hugepages=off", "--set", &err), 0);
    ck_assert(!p.hugepages);
    ck_assert_ptr_null(err);

    /* No comments or blank assignments on the command line. */
    static const struct bad_case set_bad[] = {
        { "nested", "--set: expected 'key=value'" },
        { "", "--set: expected 'key=value'" },
        { "   ", "--set: expected 'key=value'" },
        { "=on", "--set: expected 'key=value'" },
        { "# nested=on", "--set: unknown key '# nested'" },
        { "nested=on\npinning=on", "--set: contains control character 0x0a" },
        { "description=\xff", "--set: invalid UTF-8" },
    };
    for (size_t i = 0; i < sizeof(set_bad) / sizeof(set_bad[0]); i++) {
        ck_assert_int_eq(nst_profile_set(&p, set_bad[i].line, "--set", &err), -1);
        ck_assert_str_eq(err, set_bad[i].message);
    }
    ck_assert_int_eq(nst_profile_set(&p, NULL, "--set", &err), -1);
    ck_assert_str_eq(err, "--set: expected 'key=value'");
    ck_assert(!p.nested);
    ck_assert(!p.pinning);
    /* err may be NULL: the failure is still reported. */
    ck_assert_int_eq(nst_profile_set(&p, "nested=maybe", "--set", NULL), -1);
    free(err);
    nst_profile_clear(&p);
}
END_TEST

START_TEST(test_comments_and_whitespace)
{
    struct nst_profile p;
    char *err = NULL;

    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(apply(&p,
                           "# leading comment\n"
                           "\n"
                           "   \t\n"
                           "  # indented comment = ignored\n"
                           "nested=on\n"
                           "  pinning   =   on   \n"
                           "\tnuma\t=\ton\t\n"
                           "hugepages =on\r\n"
                           "memtune= on \r\n"
                           "description =   spaced   out   \n"
                           "#nested = off\n"
                           "cpu-period = 5000", &err), 0);
    ck_assert_ptr_null(err);
    ck_assert(p.nested);
    ck_assert(p.pinning);
    ck_assert(p.numa);
    ck_assert(p.hugepages);
    ck_assert(p.memtune);
    ck_assert_str_eq(p.description, "spaced   out");
    ck_assert_uint_eq(p.cpu_period_us, 5000);

    /* An empty text and one of only comments change nothing. */
    nst_profile_clear(&p);
    ck_assert_int_eq(nst_profile_init(&p) + apply(&p, "", &err), 0);
    ck_assert_int_eq(apply(&p, "# only\n\n#comments\n", &err), 0);
    assert_dump(&p, defaults_dump);

    /* A key set twice: the last one counts, as with --set. */
    ck_assert_int_eq(apply(&p, "split = off\nsplit = on\n", &err), 0);
    ck_assert(p.split);

    /* A leading UTF-8 byte order mark is not part of the first key. */
    ck_assert_int_eq(apply(&p, "\xef\xbb\xbfnested = on\n", &err), 0);
    ck_assert(p.nested);
    ck_assert_ptr_null(err);
    nst_profile_clear(&p);
}
END_TEST

START_TEST(test_line_numbers)
{
    /* Blank lines, comments and CRLF breaks all count as lines. */
    const char *text = "# one\r\n\r\nnested = on\n\n# five\nnumber = 6\n";
    assert_apply_error(text, strlen(text), "t.profile:6: unknown key 'number'");
    text = "nested = on\njust some words\n";
    assert_apply_error(text, strlen(text),
                       "t.profile:2: expected 'key = value'");
    text = "nested = on\n = on\n";
    assert_apply_error(text, strlen(text),
                       "t.profile:2: expected 'key = value'");
    /* The last line needs no newline and keeps its number. */
    text = "nested = on\n\nnested = of";
    assert_apply_error(text, strlen(text),
                       "t.profile:3: " BOOL_MSG("of", "nested"));
}
END_TEST

START_TEST(test_origin_fallback)
{
    struct nst_profile p;
    struct nst_profile_source src = { "mine", NULL, "bogus = 1\n", 10 };
    char *err = NULL;

    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_apply_text(&p, &src, &err), -1);
    ck_assert_str_eq(err, "mine:1: unknown key 'bogus'");
    free(err);
    err = NULL;
    /* An empty source without text is an empty profile. */
    struct nst_profile_source empty = { "e", "e", NULL, 0 };
    ck_assert_int_eq(nst_profile_apply_text(&p, &empty, &err), 0);
    ck_assert_int_eq(nst_profile_apply_text(&p, NULL, &err), -1);
    ck_assert_str_eq(err, "no profile text");
    free(err);
    nst_profile_clear(&p);
}
END_TEST

START_TEST(test_length_is_respected)
{
    struct nst_profile p;
    static const char text[] = "nested = on\npinning = on\n";
    /* Only the first line is part of the profile. */
    struct nst_profile_source src = { "t", "t.profile", text, 12 };
    char *err = NULL;

    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_apply_text(&p, &src, &err), 0);
    ck_assert(p.nested);
    ck_assert(!p.pinning);

    /* Not NUL-terminated at all: "numa = on" then junk after len. */
    char buf[16];
    memcpy(buf, "numa = onXXXXXXX", 16);
    struct nst_profile_source raw = { "t", "t.profile", buf, 9 };
    ck_assert_int_eq(nst_profile_apply_text(&p, &raw, &err), 0);
    ck_assert(p.numa);
    ck_assert_ptr_null(err);
    nst_profile_clear(&p);
}
END_TEST

START_TEST(test_bad_bytes)
{
    static const char nul[] = "nested = on\ndescr\0iption = x\n";
    assert_apply_error(nul, sizeof(nul) - 1,
                       "t.profile:2: contains a NUL byte");
    static const char nul_end[] = "nested = on\0";
    assert_apply_error(nul_end, sizeof(nul_end) - 1,
                       "t.profile:1: contains a NUL byte");

    static const char *const bad_utf8[] = {
        "description = \xc3\x28\n",           /* bad continuation */
        "description = \x80\n",               /* lone continuation */
        "description = \xc0\xaf\n",           /* overlong '/' */
        "description = \xe0\x80\xaf\n",       /* overlong, 3 bytes */
        "description = \xed\xa0\x80\n",       /* surrogate */
        "description = \xf4\x90\x80\x80\n",   /* above U+10FFFF */
        "description = \xf8\x88\x80\x80\x80\n", /* 5-byte form */
        "description = \xff\n",
        "description = ok\xe2\x82",           /* cut at end of text */
    };
    for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
        char *text = nst_printf("# comment\n%s", bad_utf8[i]);
        assert_apply_error(text, strlen(text), "t.profile:2: invalid UTF-8");
        free(text);
    }
    /* A bad byte in a comment is still a bad profile. */
    const char *text = "# caf\xe9\n";
    assert_apply_error(text, strlen(text), "t.profile:1: invalid UTF-8");

    /* The largest code point and a 4-byte character are fine. */
    struct nst_profile p;
    char *err = NULL;
    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(apply(&p, "description = \xf4\x8f\xbf\xbf \xf0\x9f\x90"
                           "\xa7\n", &err), 0);
    ck_assert_str_eq(p.description, "\xf4\x8f\xbf\xbf \xf0\x9f\x90\xa7");
    nst_profile_clear(&p);

    text = "description = red\x1b[31m\n";
    assert_apply_error(text, strlen(text),
                       "t.profile:1: contains control character 0x1b");
    text = "description = a\rb\n";
    assert_apply_error(text, strlen(text),
                       "t.profile:1: contains control character 0x0d");
    text = "description = \x7f\n";
    assert_apply_error(text, strlen(text),
                       "t.profile:1: contains control character 0x7f");
}
END_TEST

START_TEST(test_long_lines)
{
    struct nst_profile p;
    char *err = NULL;
    const char *prefix = "description = ";
    size_t plen = strlen(prefix);
    char *text = malloc(5000);
    ck_assert_ptr_nonnull(text);

    /* Exactly 4096 bytes before the newline is allowed... */
    memcpy(text, "nested = on\n", 12);
    memcpy(text + 12, prefix, plen);
    memset(text + 12 + plen, 'x', 4096 - plen);
    memcpy(text + 12 + 4096, "\n", 2);
    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(apply(&p, text, &err), 0);
    ck_assert_uint_eq(strlen(p.description), 4096 - plen);
    nst_profile_clear(&p);

    /* ...one more is not, with or without a newline. */
    memset(text + 12 + plen, 'x', 4097 - plen);
    memcpy(text + 12 + 4097, "\n", 2);
    assert_apply_error(text, strlen(text),
                       "t.profile:2: line is longer than 4096 bytes");
    text[12 + 4097] = '\0';
    assert_apply_error(text, strlen(text),
                       "t.profile:2: line is longer than 4096 bytes");

    /* The same limit holds for --set. */
    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_set(&p, text + 12, "--set", &err), -1);
    ck_assert_str_eq(err, "--set: line is longer than 4096 bytes");
    free(err);
    free(text);
    nst_profile_clear(&p);
}
END_TEST

START_TEST(test_failed_apply_keeps_profile)
{
    struct nst_profile p;
    char *err = NULL;

    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(apply(&p, "description = first\npinning = on\n",
                           &err), 0);
    ck_assert_int_eq(apply(&p, "description = second\nnested = on\n"
                           "housekeeping = 0\npinning = off\nbogus = 1\n",
                           &err), -1);
    ck_assert_str_eq(err, "t.profile:5: unknown key 'bogus'");
    ck_assert_str_eq(p.description, "first");
    ck_assert(p.pinning);
    ck_assert(!p.nested);
    ck_assert(p.housekeeping_auto);
    free(err);
    nst_profile_clear(&p);
}
END_TEST

/* ------------------------------------------------------ composition */

struct builtins {
    char *text[4];
    struct nst_profile_source src[4];
};

/* The real lib/profiles files, as the build embeds them. */
static void
load_builtins(struct builtins *b)
{
    static const char *const names[] = { "nested", "perf", "secure",
                                         "realtime" };
    for (size_t i = 0; i < 4; i++) {
        char *path = nst_printf("lib/profiles/%s.profile", names[i]);
        size_t len;
        b->text[i] = test_read_srcfile(path, &len);
        b->src[i].name = names[i];
        b->src[i].origin = "built-in";
        b->src[i].text = b->text[i];
        b->src[i].len = len;
        free(path);
    }
}

static void
free_builtins(struct builtins *b)
{
    for (size_t i = 0; i < 4; i++)
        free(b->text[i]);
}

#define NESTED_DESC \
    "Host CPU passthrough with VMX/SVM required, so the guest can run its " \
    "own VMs"
#define PERF_DESC \
    "Nested, plus vCPUs pinned NUMA-local on whole cores, guest NUMA cell, " \
    "strict memory binding, hugepages, an I/O thread, cache=none disks and " \
    "multiqueue virtio-net"
#define REALTIME_DESC \
    "Perf, plus vCPUs on a realtime scheduler but a housekeeping one, " \
    "locked memory and a memory hard limit"
#define SECURE_DESC \
    "Nested, plus memory and CPU limits and no disabled Spectre/MDS " \
    "mitigations"

static void
assert_compose(const struct nst_profile_source *sources, size_t n,
               const char *names, const char *expected)
{
    struct nst_profile p;
    char *err = NULL;

    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_compose(&p, names, sources, n, &err), 0);
    ck_assert_ptr_null(err);
    assert_dump(&p, expected);
    nst_profile_clear(&p);
}

static void
assert_compose_error(const struct nst_profile_source *sources, size_t n,
                     const char *names, const char *expected)
{
    struct nst_profile p;
    char *err = NULL;

    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_compose(&p, names, sources, n, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_str_eq(err, expected);
    /* A failed composition leaves the profile as it was. */
    assert_dump(&p, defaults_dump);
    free(err);
    nst_profile_clear(&p);
}

START_TEST(test_builtin_files)
{
    struct builtins b;
    load_builtins(&b);

    assert_compose(b.src, 3, "nested",
                   "name=nested\n"
                   "description=" NESTED_DESC "\n"
                   "nested=on\n"
                   "pinning=off\n"
                   "thread-policy=prefer\n"
                   "housekeeping=auto\n"
                   "split=on\n"
                   "numa=off\n"
                   "hugepages=off\n"
                   "memtune=off\n"
                   "memtune-overhead-min=512\n"
                   "memtune-overhead-percent=10\n"
                   "cpu-limits=off\n"
                   "cpu-shares-per-vcpu=100\n"
                   "cpu-period=100000\n"
                   "cpu-quota-percent=100\n"
                   "mitigations=off\n"
                   "guest-os=auto\n"
                   "hyperv=on\n"
                   "hyperv-evmcs=on\n"
                   "realtime=off\n"
                   "realtime-scheduler=fifo\n"
                   "realtime-priority=1\n"
                   "realtime-mask=^0\n");
    assert_compose(b.src, 3, "perf",
                   "name=perf\n"
                   "description=" PERF_DESC "\n"
                   "nested=on\n"
                   "pinning=on\n"
                   "thread-policy=prefer\n"
                   "housekeeping=auto\n"
                   "split=on\n"
                   "numa=on\n"
                   "hugepages=on\n"
                   "memtune=off\n"
                   "memtune-overhead-min=512\n"
                   "memtune-overhead-percent=10\n"
                   "cpu-limits=off\n"
                   "cpu-shares-per-vcpu=100\n"
                   "cpu-period=100000\n"
                   "cpu-quota-percent=100\n"
                   "mitigations=off\n"
                   "guest-os=auto\n"
                   "hyperv=on\n"
                   "hyperv-evmcs=on\n"
                   "realtime=off\n"
                   "realtime-scheduler=fifo\n"
                   "realtime-priority=1\n"
                   "realtime-mask=^0\n");
    assert_compose(b.src, 3, "secure",
                   "name=secure\n"
                   "description=" SECURE_DESC "\n"
                   "nested=on\n"
                   "pinning=off\n"
                   "thread-policy=prefer\n"
                   "housekeeping=auto\n"
                   "split=on\n"
                   "numa=off\n"
                   "hugepages=off\n"
                   "memtune=on\n"
                   "memtune-overhead-min=512\n"
                   "memtune-overhead-percent=10\n"
                   "cpu-limits=on\n"
                   "cpu-shares-per-vcpu=100\n"
                   "cpu-period=100000\n"
                   "cpu-quota-percent=100\n"
                   "mitigations=on\n"
                   "guest-os=auto\n"
                   "hyperv=on\n"
                   "hyperv-evmcs=on\n"
                   "realtime=off\n"
                   "realtime-scheduler=fifo\n"
                   "realtime-priority=1\n"
                   "realtime-mask=^0\n");
    /* realtime: perf's keys, the realtime ones and memtune. */
    assert_compose(b.src, 4, "realtime",
                   "name=realtime\n"
                   "description=" REALTIME_DESC "\n"
                   "nested=on\n"
                   "pinning=on\n"
                   "thread-policy=prefer\n"
                   "housekeeping=auto\n"
                   "split=on\n"
                   "numa=on\n"
                   "hugepages=on\n"
                   "memtune=on\n"
                   "memtune-overhead-min=512\n"
                   "memtune-overhead-percent=10\n"
                   "cpu-limits=off\n"
                   "cpu-shares-per-vcpu=100\n"
                   "cpu-period=100000\n"
                   "cpu-quota-percent=100\n"
                   "mitigations=off\n"
                   "guest-os=auto\n"
                   "hyperv=on\n"
                   "hyperv-evmcs=on\n"
                   "realtime=on\n"
                   "realtime-scheduler=fifo\n"
                   "realtime-priority=1\n"
                   "realtime-mask=^0\n");
    free_builtins(&b);
}
END_TEST

START_TEST(test_compose_perf_secure)
{
    struct builtins b;
    load_builtins(&b);

    static const char expected[] =
        "name=perf,secure\n"
        "description=" PERF_DESC "; " SECURE_DESC "\n"
        "nested=on\n"
        "pinning=on\n"
        "thread-policy=prefer\n"
        "housekeeping=auto\n"
        "split=on\n"
        "numa=on\n"
        "hugepages=on\n"
        "memtune=on\n"
        "memtune-overhead-min=512\n"
        "memtune-overhead-percent=10\n"
        "cpu-limits=on\n"
        "cpu-shares-per-vcpu=100\n"
        "cpu-period=100000\n"
        "cpu-quota-percent=100\n"
        "mitigations=on\n"
        "guest-os=auto\n"
        "hyperv=on\n"
        "hyperv-evmcs=on\n"
        "realtime=off\n"
        "realtime-scheduler=fifo\n"
        "realtime-priority=1\n"
        "realtime-mask=^0\n";
    assert_compose(b.src, 3, "perf,secure", expected);
    /* Blanks around names do not matter and do not reach the name. */
    assert_compose(b.src, 3, "  perf ,\tsecure  ", expected);
    free_builtins(&b);
}
END_TEST

START_TEST(test_compose_user_override)
{
    struct builtins b;
    load_builtins(&b);

    struct nst_profile_source sources[4] = {
        b.src[0], b.src[1], b.src[2],
        { "perf", "/etc/virt-nestify/profiles.d/perf.profile",
          "# my perf: no hugepages here\nnested = on\npinning = on\n", 0 },
    };
    sources[3].len = strlen(sources[3].text);

    /* The user's perf replaces the built-in one entirely. */
    struct nst_profile p;
    char *err = NULL;
    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_compose(&p, "perf", sources, 4, &err), 0);
    ck_assert_str_eq(p.name, "perf");
    ck_assert_ptr_null(p.description);
    ck_assert(p.nested);
    ck_assert(p.pinning);
    ck_assert(!p.numa);
    ck_assert(!p.hugepages);
    nst_profile_clear(&p);

    /* Listed before the built-ins, it is the one overridden. */
    struct nst_profile_source reversed[4] = {
        sources[3], b.src[0], b.src[1], b.src[2],
    };
    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_compose(&p, "perf", reversed, 4, &err), 0);
    ck_assert(p.hugepages);
    ck_assert_str_eq(p.description, PERF_DESC);
    nst_profile_clear(&p);

    /* Its errors name its file. */
    sources[3].text = "nested = on\npining = on\n";
    sources[3].len = strlen(sources[3].text);
    assert_compose_error(sources, 4, "nested,perf",
                         "/etc/virt-nestify/profiles.d/perf.profile:2: "
                         "unknown key 'pining'");
    ck_assert_ptr_null(err);
    free_builtins(&b);
}
END_TEST

/* Copies n sources, their lengths filled in from their texts. */
static void
with_lengths(const struct nst_profile_source *in,
             struct nst_profile_source *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = in[i];
        out[i].len = strlen(out[i].text);
    }
}

START_TEST(test_compose_order)
{
    static const struct nst_profile_source sources[] = {
        { "a", "a.profile", "description = A\nthread-policy = isolate\n"
          "cpu-period = 2000\nhousekeeping = 0,8\n", 0 },
        { "b", "b.profile", "thread-policy = require\nnuma = on\n"
          "housekeeping = auto\n", 0 },
        { "c", "c.profile", "description = C\n", 0 },
    };
    struct nst_profile_source src[3];
    with_lengths(sources, src, 3);
    struct nst_profile p;
    char *err = NULL;

    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_compose(&p, "a,b", src, 3, &err), 0);
    ck_assert_str_eq(p.name, "a,b");
    ck_assert_str_eq(p.description, "A");
    ck_assert_int_eq(p.thread_policy, NST_THREAD_REQUIRE);
    ck_assert_uint_eq(p.cpu_period_us, 2000);
    ck_assert(p.numa);
    ck_assert(p.housekeeping_auto);
    nst_profile_clear(&p);

    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_compose(&p, "b,a", src, 3, &err), 0);
    ck_assert_str_eq(p.name, "b,a");
    ck_assert_int_eq(p.thread_policy, NST_THREAD_ISOLATE);
    ck_assert_uint_eq(p.cpu_period_us, 2000);
    ck_assert(p.numa);
    ck_assert(!p.housekeeping_auto);
    char *hk = nst_cpuset_format(&p.housekeeping);
    ck_assert_str_eq(hk, "0,8");
    free(hk);
    nst_profile_clear(&p);

    /* Descriptions are joined in order; profiles without one add none. */
    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_compose(&p, "c,b,a", src, 3, &err), 0);
    ck_assert_str_eq(p.name, "c,b,a");
    ck_assert_str_eq(p.description, "C; A");
    nst_profile_clear(&p);

    /* Settings made before composing stay unless a profile sets them. */
    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_set(&p, "mitigations=on", "--set", &err), 0);
    ck_assert_int_eq(nst_profile_set(&p, "numa=off", "--set", &err), 0);
    ck_assert_int_eq(nst_profile_compose(&p, "b", src, 3, &err), 0);
    ck_assert(p.mitigations);
    ck_assert(p.numa);
    ck_assert_ptr_null(p.description);
    /* ...and a --set after composing overrides the profile. */
    ck_assert_int_eq(nst_profile_set(&p, "numa=off", "--set", &err), 0);
    ck_assert(!p.numa);
    ck_assert_ptr_null(err);
    nst_profile_clear(&p);
}
END_TEST

START_TEST(test_compose_errors)
{
    struct builtins b;
    load_builtins(&b);

    /* Unsorted and with a duplicate, to see sorting and deduplication. */
    struct nst_profile_source sources[4] = {
        b.src[2], b.src[1], b.src[0],
        { "perf", "user", "nested = on\n", 12 },
    };
    assert_compose_error(sources, 4, "perf,fast",
                         "unknown profile 'fast' "
                         "(known: nested, perf, secure)");
    assert_compose_error(sources, 4, "Perf",
                         "unknown profile 'Perf' "
                         "(known: nested, perf, secure)");
    assert_compose_error(sources, 0, "perf",
                         "unknown profile 'perf' (known: none)");
    assert_compose_error(sources, 4, "perf,secure,perf",
                         "profile 'perf' is given twice");
    assert_compose_error(sources, 4, "perf, perf ",
                         "profile 'perf' is given twice");
    assert_compose_error(sources, 4, "perf,,secure",
                         "empty profile name in 'perf,,secure'");
    assert_compose_error(sources, 4, "perf,",
                         "empty profile name in 'perf,'");
    assert_compose_error(sources, 4, "", "empty profile name in ''");
    assert_compose_error(sources, 4, " , ", "empty profile name in ' , '");
    assert_compose_error(sources, 4, NULL, "no profile given");

    /* A NUL byte in one source fails the whole composition. */
    static const char nul[] = "numa = on\n\0";
    sources[3].text = nul;
    sources[3].len = sizeof(nul) - 1;
    assert_compose_error(sources, 4, "secure,perf",
                         "user:2: contains a NUL byte");
    free_builtins(&b);
}
END_TEST

/* The host's CPUs are known only when the profile is applied, so a
 * housekeeping list remembers where it was set, for that message:
 * through composition (b overrides a), --set, and a copy kept on a
 * failed apply; auto forgets it. */
START_TEST(test_housekeeping_origin)
{
    static const struct nst_profile_source sources[] = {
        { "a", "a.profile", "housekeeping = 0,8\n", 0 },
        { "b", "b.profile", "# b\n\nhousekeeping=0-1 \n", 0 },
        { "c", "c.profile", "housekeeping = auto\n", 0 },
    };
    struct nst_profile_source src[3];
    with_lengths(sources, src, 3);
    struct nst_profile p;
    char *err = NULL;

    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_ptr_null(p.housekeeping_origin);
    ck_assert_int_eq(nst_profile_compose(&p, "a", src, 3, &err), 0);
    ck_assert_str_eq(p.housekeeping_origin, "a.profile:1: housekeeping");
    nst_profile_clear(&p);

    ck_assert_int_eq(nst_profile_init(&p), 0);
    ck_assert_int_eq(nst_profile_compose(&p, "a,b", src, 3, &err), 0);
    ck_assert_str_eq(p.housekeeping_origin, "b.profile:3: housekeeping");
    ck_assert_int_eq(nst_profile_set(&p, "housekeeping = 72 ", "--set", &err), 0);
    ck_assert_str_eq(p.housekeeping_origin, "--set housekeeping=72");
    ck_assert_int_eq(nst_profile_set(&p, "housekeeping=bad", "--set", &err), -1);
    ck_assert_str_eq(p.housekeeping_origin, "--set housekeeping=72");
    free(err);
    err = NULL;
    ck_assert_int_eq(nst_profile_compose(&p, "c", src, 3, &err), 0);
    ck_assert(p.housekeeping_auto);
    ck_assert_ptr_null(p.housekeeping_origin);
    ck_assert_ptr_null(err);
    nst_profile_clear(&p);
    ck_assert_ptr_null(p.housekeeping_origin);
}
END_TEST

/* docs/profiles.md documents every key. */
START_TEST(test_docs_cover_keys)
{
    char *doc = test_read_srcfile("docs/profiles.md", NULL);
    for (size_t i = 0; i < NKEYS; i++) {
        char *heading = nst_printf("\n### `%s`\n", all_keys[i]);
        ck_assert_msg(strstr(doc, heading) != NULL,
                      "docs/profiles.md does not describe '%s'", all_keys[i]);
        free(heading);
    }
    free(doc);
}
END_TEST

static Suite *
profile_suite(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_thread_policy_name);
    tcase_add_test(tc, test_housekeeping_origin);
    tcase_add_test(tc, test_defaults);
    tcase_add_loop_test(tc, test_good_value_file, 0, NGOOD);
    tcase_add_loop_test(tc, test_good_value_set, 0, NGOOD);
    tcase_add_loop_test(tc, test_bad_value_file, 0, NBAD);
    tcase_add_loop_test(tc, test_bad_value_set, 0, NBAD);
    tcase_add_test(tc, test_set_form);
    tcase_add_test(tc, test_comments_and_whitespace);
    tcase_add_test(tc, test_line_numbers);
    tcase_add_test(tc, test_origin_fallback);
    tcase_add_test(tc, test_length_is_respected);
    tcase_add_test(tc, test_bad_bytes);
    tcase_add_test(tc, test_long_lines);
    tcase_add_test(tc, test_failed_apply_keeps_profile);
    suite_add_tcase(s, tc);

    tc = tcase_create("compose");
    tcase_add_test(tc, test_builtin_files);
    tcase_add_test(tc, test_compose_perf_secure);
    tcase_add_test(tc, test_compose_user_override);
    tcase_add_test(tc, test_compose_order);
    tcase_add_test(tc, test_compose_errors);
    tcase_add_test(tc, test_docs_cover_keys);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return test_run_suite(profile_suite());
}
