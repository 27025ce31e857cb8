/*
 * report.c: findings, the one list that nst_apply's report (what a run
 * changed, warned about and refused, and why) and the linter's result
 * (what is wrong with a domain) are made of, and both as text and as
 * JSON (json-c objects, docs/json.md)
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "internal.h"

static const char *const severity_names[NST_SEVERITY_LAST] = {
    "change", "warning", "error",
};

/* ------------------------------------------------------------ the list */

int
nsti_findings_add(struct nst_findings *list, enum nst_severity severity,
                 const char *id, const char *rule, char *target,
                 char *message, char *fix)
{
    if (!message || NST_GROW(list->items, list->n + 1, list->alloc) < 0) {
        free(target);
        free(message);
        free(fix);
        return -1;
    }
    list->items[list->n++] = (struct nst_finding){
        .severity = severity, .id = id, .rule = rule, .target = target,
        .message = message, .fix = fix,
    };
    return 0;
}

size_t
nst_findings_count(const struct nst_findings *list,
                   enum nst_severity severity)
{
    size_t n = 0;
    for (size_t i = 0; i < list->n; i++)
        if (list->items[i].severity == severity)
            n++;
    return n;
}

void
nst_findings_clear(struct nst_findings *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n; i++) {
        free(list->items[i].target);
        free(list->items[i].message);
        free(list->items[i].fix);
    }
    free(list->items);
    memset(list, 0, sizeof(*list));
}

/* -------------------------------------------------------------- report */

void
nst_report_init(struct nst_report *report, const char *domain,
                const char *profile)
{
    memset(report, 0, sizeof(*report));
    report->domain = domain ? nst_printf("%s", domain) : NULL;
    report->profile = profile ? nst_printf("%s", profile) : NULL;
}

void
nst_report_clear(struct nst_report *report)
{
    if (!report)
        return;
    nst_findings_clear(&report->findings);
    free(report->domain);
    free(report->profile);
    memset(report, 0, sizeof(*report));
}

void
nst_report_add(struct nst_report *report, enum nst_severity severity,
               const char *rule, const char *target, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    char *message = nst_vprintf(fmt, ap);
    va_end(ap);
    char *copy = target ? nst_printf("%s", target) : NULL;
    if (target && !copy) {
        free(message);
        return;
    }
    nsti_findings_add(&report->findings, severity, NULL, rule, copy, message,
                     NULL);
}

size_t
nst_report_count(const struct nst_report *report, enum nst_severity severity)
{
    return nst_findings_count(&report->findings, severity);
}

static const char *
plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

char *
nst_report_format_text(const struct nst_report *report)
{
    struct nst_buf buf = { 0 };
    size_t changes = nst_report_count(report, NST_CHANGE);
    size_t warnings = nst_report_count(report, NST_WARNING);
    size_t errors = nst_report_count(report, NST_ERROR);

    nst_buf_addf(&buf, "domain '%s', profile '%s': ",
                 report->domain ? report->domain : "?",
                 report->profile ? report->profile : "?");
    if (errors)
        nst_buf_addf(&buf, "refused (%zu %s)", errors,
                     plural(errors, "error", "errors"));
    else if (changes)
        nst_buf_addf(&buf, "%zu %s", changes,
                     plural(changes, "change", "changes"));
    else
        nst_buf_adds(&buf, "no change needed");
    if (warnings)
        nst_buf_addf(&buf, ", %zu %s", warnings,
                     plural(warnings, "warning", "warnings"));
    nst_buf_adds(&buf, "\n");
    for (size_t i = 0; i < report->findings.n; i++) {
        const struct nst_finding *e = &report->findings.items[i];
        nst_buf_addf(&buf, "  %-8s %s", severity_names[e->severity],
                     e->rule);
        if (e->target)
            nst_buf_addf(&buf, " %s", e->target);
        nst_buf_addf(&buf, ": %s\n", e->message);
    }
    return nst_buf_finish(&buf, NULL);
}

/* The report's findings of one severity, as the entries of a domain
 * document. */
static struct json_object *
entries_json(const struct nst_report *report, enum nst_severity severity,
             bool *ok)
{
    struct json_object *list = json_object_new_array();

    for (size_t i = 0; i < report->findings.n; i++) {
        const struct nst_finding *e = &report->findings.items[i];
        if (e->severity != severity)
            continue;
        struct json_object *entry = json_object_new_object();
        nst_json_add_string(entry, "rule", e->rule, ok);
        nst_json_add_string(entry, "target", e->target, ok);
        nst_json_add_string(entry, "message", e->message, ok);
        nst_json_append(list, entry, ok);
    }
    return list;
}

struct json_object *
nst_report_to_json(const struct nst_report *report)
{
    struct json_object *doc = json_object_new_object();
    bool ok = true;

    nst_json_add_string(doc, "domain", report->domain ? report->domain : "",
                        &ok);
    nst_json_add_string(doc, "profile",
                        report->profile ? report->profile : "", &ok);
    nst_json_add_string(doc, "result",
                        nst_report_count(report, NST_ERROR) ? "refused" :
                        nst_report_count(report, NST_CHANGE) ? "changed" :
                        "unchanged", &ok);
    nst_json_add(doc, "changes", entries_json(report, NST_CHANGE, &ok), &ok);
    nst_json_add(doc, "warnings", entries_json(report, NST_WARNING, &ok),
                 &ok);
    nst_json_add(doc, "errors", entries_json(report, NST_ERROR, &ok), &ok);
    if (!ok) {
        json_object_put(doc);
        return NULL;
    }
    return doc;
}

char *
nst_report_format_json(const struct nst_report *report)
{
    struct json_object *doc = nst_report_to_json(report);
    return nst_json_finish(doc, doc != NULL);
}

/* ---------------------------------------------------------------- lint */

void
nst_lint_result_clear(struct nst_lint_result *result)
{
    if (!result)
        return;
    nst_findings_clear(&result->findings);
    free(result->domain);
    free(result->label);
    memset(result, 0, sizeof(*result));
}

/* "VN102, VN104, ..." of the rules skipped without a host. */
static void
add_host_rule_ids(struct nst_buf *buf)
{
    size_t n;
    const struct nst_lint_rule *rules = nst_lint_rules(&n);
    bool first = true;

    for (size_t i = 0; i < n; i++) {
        if (!rules[i].needs_host)
            continue;
        nst_buf_addf(buf, "%s%s", first ? "" : ", ", rules[i].id);
        first = false;
    }
}

char *
nst_lint_format_text(const struct nst_lint_result *result)
{
    struct nst_buf buf = { 0 };

    for (size_t i = 0; i < result->findings.n; i++) {
        const struct nst_finding *f = &result->findings.items[i];
        nst_buf_addf(&buf, "%s: %s %s: %s (fix: %s)\n", result->label,
                     severity_names[f->severity], f->id, f->message, f->fix);
    }
    if (!result->host_checked) {
        nst_buf_addf(&buf, "%s: note: no host capabilities, rules ",
                     result->label);
        add_host_rule_ids(&buf);
        nst_buf_adds(&buf, " skipped (they need the host's capabilities "
                     "or a connection)\n");
    }
    return nst_buf_finish(&buf, NULL);
}

/* One domain of the lint document. */
static struct json_object *
lint_domain_json(const struct nst_lint_result *r, bool *ok)
{
    struct json_object *obj = json_object_new_object();
    struct json_object *list = json_object_new_array();

    nst_json_add_string(obj, "domain", r->domain, ok);
    nst_json_add_string(obj, "label", r->label, ok);
    nst_json_add_string(obj, "host_rules",
                        r->host_checked ? "checked" : "skipped", ok);
    nst_json_add_int(obj, "errors",
                     (long long)nst_findings_count(&r->findings, NST_ERROR),
                     ok);
    nst_json_add_int(obj, "warnings",
                     (long long)nst_findings_count(&r->findings,
                                                   NST_WARNING), ok);
    for (size_t k = 0; k < r->findings.n; k++) {
        const struct nst_finding *f = &r->findings.items[k];
        struct json_object *finding = json_object_new_object();
        nst_json_add_string(finding, "id", f->id, ok);
        nst_json_add_string(finding, "rule", f->rule, ok);
        nst_json_add_string(finding, "severity",
                            severity_names[f->severity], ok);
        nst_json_add_string(finding, "target", f->target, ok);
        nst_json_add_string(finding, "message", f->message, ok);
        nst_json_add_string(finding, "fix", f->fix, ok);
        nst_json_append(list, finding, ok);
    }
    nst_json_add(obj, "findings", list, ok);
    return obj;
}

char *
nst_lint_format_json(const struct nst_lint_result *results, size_t n)
{
    struct json_object *doc = json_object_new_object();
    struct json_object *domains = json_object_new_array();
    size_t errors = 0, warnings = 0;
    bool ok = true;

    for (size_t i = 0; i < n; i++) {
        errors += nst_findings_count(&results[i].findings, NST_ERROR);
        warnings += nst_findings_count(&results[i].findings, NST_WARNING);
        nst_json_append(domains, lint_domain_json(&results[i], &ok), &ok);
    }
    nst_json_add_int(doc, "errors", (long long)errors, &ok);
    nst_json_add_int(doc, "warnings", (long long)warnings, &ok);
    nst_json_add(doc, "domains", domains, &ok);
    return nst_json_finish(doc, ok);
}
