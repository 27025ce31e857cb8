/*
 * bench-transform.c: offline transform throughput against libxml2 alone
 *
 * Times, over the same domain and host, (a) libxml2 parsing and
 * serialising the domain and nothing else, and (b) virt-nestify's whole
 * offline transform: parse with byte spans, apply the profile (placement
 * included), serialise.  Prints both rates and their ratio; asserts
 * nothing.  Run with "make bench".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "internal.h"

static char *
read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    struct nst_buf buf = { 0 };
    char chunk[65536];
    size_t n;
    if (!fp) {
        perror(path);
        exit(2);
    }
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        nst_buf_add(&buf, chunk, n);
    fclose(fp);
    return nst_buf_finish(&buf, len);
}

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    const char *srcdir = argc > 1 ? argv[1] : ".";
    const char *profile_names = argc > 2 ? argv[2] : "perf,secure";
    int rounds = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 5000;
    char *dom_path = nst_printf("%s/tests/fixtures/domains/seed-bogus.xml",
                                srcdir);
    char *caps_path = nst_printf("%s/tests/fixtures/hosts/intel-e5-2697v4.xml",
                                 srcdir);
    size_t len, caps_len;
    char *text = read_file(dom_path, &len);
    char *caps = read_file(caps_path, &caps_len);
    struct nst_host *host = NULL;
    struct nst_profile profile;
    size_t n;
    char *err = NULL;

    const struct nst_profile_source *builtins = nst_builtin_profiles(&n);
    if (nst_host_parse(caps, caps_len, NULL, 0, &host, &err) < 0 ||
        nst_profile_init(&profile) < 0 ||
        nst_profile_compose(&profile, profile_names, builtins, n,
                            &err) < 0) {
        fprintf(stderr, "bench: %s\n", err);
        return 2;
    }

    double t0 = now();
    for (int i = 0; i < rounds; i++) {
        xmlDocPtr doc = xmlReadMemory(text, (int)len, "d.xml", NULL,
                                      XML_PARSE_NONET);
        xmlChar *out;
        int out_len;
        xmlDocDumpMemory(doc, &out, &out_len);
        xmlFree(out);
        xmlFreeDoc(doc);
    }
    double libxml2 = (now() - t0) / rounds;

    t0 = now();
    for (int i = 0; i < rounds; i++) {
        struct nst_doc *doc = NULL;
        struct nst_report report;
        if (nst_doc_parse(text, len, "d.xml", &doc, &err) < 0) {
            fprintf(stderr, "bench: %s\n", err);
            return 2;
        }
        nst_report_init(&report, "d", profile.name);
        struct nst_apply_options opts = { .profile = &profile, .host = host };
        if (nst_apply(doc, &opts, &report, NULL) < 0) {
            fprintf(stderr, "bench: profile refused\n");
            return 2;
        }
        free(nst_doc_serialize(doc, NULL));
        nst_report_clear(&report);
        nst_doc_free(doc);
    }
    double ours = (now() - t0) / rounds;

    printf("domain %s (%zu bytes), profile %s, %d rounds\n",
           "seed-bogus.xml", len, profile_names, rounds);
    printf("  libxml2 parse+serialise only: %8.1f us/domain  %8.0f domains/s\n",
           libxml2 * 1e6, 1 / libxml2);
    printf("  virt-nestify transform:       %8.1f us/domain  %8.0f domains/s\n",
           ours * 1e6, 1 / ours);
    printf("  ratio (transform / libxml2):  %8.2f\n", ours / libxml2);

    nst_profile_clear(&profile);
    nst_host_free(host);
    free(text);
    free(caps);
    free(dom_path);
    free(caps_path);
    return 0;
}
