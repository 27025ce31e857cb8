/*
 * fuzz-host.c: the capabilities and domain capabilities parsers
 *
 * Each input is parsed as a capabilities document alone and with the
 * fixed Intel domain capabilities, and as domain capabilities for the
 * fixed Intel capabilities; it is loaded as a cpu_map file into a copy of
 * the fixed Intel host, parsed once at start (parsing the 16 KB fixture
 * for every input made this target the slowest by far).  A host the input
 * described is then queried the way the policy does: cells, pages,
 * housekeeping, clone, and one placement.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nestify.h"

static char *caps, *domcaps;
static size_t caps_len, domcaps_len;
static struct nst_host *intel;      /* caps + domcaps, parsed once */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    caps = fuzz_read_fixture("tests/fixtures/hosts/intel-e5-2697v4.xml",
                             &caps_len);
    domcaps = fuzz_read_fixture(
        "tests/fixtures/hosts/intel-e5-2697v4-domcaps.xml", &domcaps_len);
    char *err = NULL;
    if (nst_host_parse(caps, caps_len, domcaps, domcaps_len, &intel,
                       &err) < 0)
        fuzz_fail(__FILE__, __LINE__, err);
    return 0;
}

static void
use_host(struct nst_host *host)
{
    struct nst_cpuset all, hk;
    struct nst_placement placement;
    char *reason = NULL;

    FUZZ_ASSERT(host->arch != NULL);
    nst_host_all_cpus(host, &all);
    nst_host_default_housekeeping(host, &hk);
    (void)nst_host_threads_per_core(host);
    (void)nst_host_virt_feature(host);
    (void)nst_host_feature_unknown(host, "vmx");
    for (size_t i = 0; i < host->ncells; i++) {
        const struct nst_cell *cell = nst_host_cell(host, host->cells[i].id);
        FUZZ_ASSERT(cell != NULL);
        (void)nst_cell_hugepage_size(cell, 4194304);
        (void)nst_cell_pages_fit(cell, 2048, 4194304);
        (void)nst_cell_pages(cell, 1048576);
    }
    for (size_t i = 0; i < host->ncpus; i++)
        FUZZ_ASSERT(nst_host_cpu(host, host->cpus[i].id) != NULL);

    struct nst_host *copy = nst_host_clone(host);
    FUZZ_ASSERT(copy != NULL);
    if (host->ncells > 0) {
        char *err = NULL;
        if (nst_host_set_free_pages(copy, host->cells[0].id, 2048, 16,
                                    &err) < 0)
            free(err);
    }

    struct nst_placement_request req = {
        .vcpus = 4, .memory_kib = 4194304, .policy = NST_THREAD_PREFER,
        .allow_split = true, .taken = NULL, .housekeeping = &hk,
        .prefer_hugepages = true,
    };
    memset(&placement, 0, sizeof(placement));
    if (nst_place(copy, &req, &placement, &reason) == 0)
        nst_placement_clear(&placement);
    else
        free(reason);
    nst_host_free(copy);
}

/* The input as capabilities (with the fixed domcaps, or none), or the
 * fixed capabilities with the input as domcaps; query the host when the
 * input shaped it. */
static void
parse(const char *c, size_t clen, const char *d, size_t dlen, bool query)
{
    struct nst_host *host = NULL;
    char *err = NULL;

    if (nst_host_parse(c, clen, d, dlen, &host, &err) < 0) {
        FUZZ_ASSERT(err != NULL && host == NULL);
        free(err);
        return;
    }
    FUZZ_ASSERT(host->arch != NULL);
    if (query)
        use_host(host);
    nst_host_free(host);
}

/* The input as a cpu_map features file and as a CPU model file. */
static void
load_cpu_map(const char *xml, size_t len)
{
    struct nst_host *host = nst_host_clone(intel);
    char *err = NULL;

    FUZZ_ASSERT(host != NULL);
    if (nst_host_load_cpu_map(host, xml, len, &err) < 0) {
        FUZZ_ASSERT(err != NULL);
        free(err);
        err = NULL;
    }
    if (nst_host_load_cpu_model(host, xml, len, &err) < 0) {
        FUZZ_ASSERT(err != NULL);
        free(err);
    }
    (void)nst_host_feature_unknown(host, "vmx");
    (void)nst_host_virt_feature(host);
    nst_host_free(host);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        abort();
    if (size)
        memcpy(text, data, size);

    parse(text, size, NULL, 0, true);
    parse(text, size, domcaps, domcaps_len, true);
    parse(caps, caps_len, text, size, false);
    load_cpu_map(text, size);
    free(text);
    return 0;
}
