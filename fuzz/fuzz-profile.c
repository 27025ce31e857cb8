/*
 * fuzz-profile.c: profile texts, --set strings, composition and cpusets
 *
 * Each input is used four ways: as a profile file ("fuzz.profile")
 * applied over the defaults; as a profile named "fuzz" that overrides
 * the built-ins and is composed with them ("perf,fuzz"); its first line
 * as the --profile names to compose; and each line as a --set KEY=VALUE.
 * The first line is also a cpuset (--taken, housekeeping=), whose
 * formatted form must parse back to the same set.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nestify.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return 0;
}

static void
check_cpuset(const char *text)
{
    struct nst_cpuset set, back;
    char *err = NULL;

    if (nst_cpuset_parse(text, &set, &err) < 0) {
        FUZZ_ASSERT(err != NULL);
        free(err);
        return;
    }
    char *formatted = nst_cpuset_format(&set);
    FUZZ_ASSERT(formatted != NULL);
    if (*formatted) {
        if (nst_cpuset_parse(formatted, &back, &err) < 0)
            fuzz_fail(__FILE__, __LINE__, err);
        FUZZ_ASSERT(nst_cpuset_equal(&set, &back));
    } else {
        FUZZ_ASSERT(nst_cpuset_is_empty(&set));
    }
    free(formatted);
}

static void
compose(const char *names, const struct nst_profile_source *sources,
        size_t n)
{
    struct nst_profile profile;
    char *err = NULL;

    nst_profile_init(&profile);
    if (nst_profile_compose(&profile, names, sources, n, &err) < 0) {
        FUZZ_ASSERT(err != NULL);
        free(err);
    }
    nst_profile_clear(&profile);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t nbuiltin;
    const struct nst_profile_source *builtin = nst_builtin_profiles(&nbuiltin);
    /* Exactly size bytes: the profile reader takes a length. */
    char *text = malloc(size ? size : 1);
    char *str = fuzz_strndup(data, size);
    struct nst_profile profile;
    char *err = NULL;

    if (!text)
        abort();
    if (size)
        memcpy(text, data, size);

    /* A profile file. */
    struct nst_profile_source src = { "fuzz", "fuzz.profile", text, size };
    nst_profile_init(&profile);
    if (nst_profile_apply_text(&profile, &src, &err) < 0) {
        FUZZ_ASSERT(err != NULL);
        free(err);
        err = NULL;
    }
    nst_profile_clear(&profile);

    /* The same text in a profiles.d, over the built-ins. */
    struct nst_profile_source *all = calloc(nbuiltin + 1, sizeof(*all));
    if (!all)
        abort();
    memcpy(all, builtin, nbuiltin * sizeof(*all));
    all[nbuiltin] = src;
    compose("perf,fuzz", all, nbuiltin + 1);
    compose("fuzz,secure", all, nbuiltin + 1);

    /* The first line as --profile names and as a cpuset. */
    char *nl = strchr(str, '\n');
    char *first = nl ? fuzz_strndup((const uint8_t *)str, (size_t)(nl - str))
                     : fuzz_strndup((const uint8_t *)str, strlen(str));
    compose(first, all, nbuiltin + 1);
    check_cpuset(first);
    free(first);
    free(all);

    /* Every line as --set, one profile taking them all in turn. */
    nst_profile_init(&profile);
    for (char *line = str, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (nst_profile_set(&profile, line, "--set", &err) < 0) {
            FUZZ_ASSERT(err != NULL);
            free(err);
            err = NULL;
        }
    }
    nst_profile_clear(&profile);

    free(str);
    free(text);
    return 0;
}
