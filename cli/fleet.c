/*
 * fleet.c: several hosts in one run (--connect given more than once)
 *
 * Every host is a bulk run of its own: its own connection, host-wide
 * allocation and summary.  Up to --jobs hosts run at a time, each in a
 * child process whose standard output goes to a file of its own, so the
 * hosts' reports never interleave: they are printed afterwards, in the
 * order the hosts were given.  Errors reach stderr as they happen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json.h>

#include "apply.h"
#include "nestify.h"
#include "tool.h"

struct host_job {
    const char *uri;
    FILE *out;                   /* the child's stdout */
    pid_t pid;
    int exit;
};

/* Runs one host's bulk run in a child; returns its pid or -1. */
static pid_t
start_host(struct host_job *job, const struct vn_apply_opts *o,
           const struct nst_profile *profile)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    struct vn_apply_opts mine = *o;
    mine.plan.connect = job->uri;
    /* Decided here: the child's stdout is a file, the parent's maybe a
     * terminal. */
    if (mine.color == VN_COLOR_AUTO)
        mine.color = vn_use_color(o) ? VN_COLOR_ALWAYS : VN_COLOR_NEVER;
    char *context = nst_printf("host '%s'", job->uri);
    vn_set_message_context(context);
    if (dup2(fileno(job->out), STDOUT_FILENO) < 0)
        _exit(VN_EXIT_SYSTEM);
    int ret = vn_apply_bulk(&mine, profile);
    fflush(stdout);
    _exit(ret);
}

static int
wait_host(struct host_job *job)
{
    int status;
    while (waitpid(job->pid, &status, 0) < 0)
        ;
    job->exit = WIFEXITED(status) ? WEXITSTATUS(status) : VN_EXIT_SYSTEM;
    if (!WIFEXITED(status))
        vn_error("host '%s': the run for it died (signal %d)", job->uri,
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return job->exit;
}

/* A host's bulk document, parsed; NULL when it printed none (it failed
 * before planning) or something else, which is said. */
static struct json_object *
host_document(const struct host_job *job, const char *text, size_t len)
{
    char *why = NULL;
    struct json_object *doc = text && len ? nst_json_parse(text, len, &why) :
                              NULL;

    if (why)
        vn_error("host '%s': its run printed something that is not a JSON "
                 "document (%s)", job->uri, why);
    free(why);
    return doc;
}

/* Each host's connection URI and the temporary file its child writes
 * to.  Returns 0, or -1 with the error reported and no file left open. */
static int
open_outputs(struct host_job *hosts, size_t n, const struct vn_apply_opts *o)
{
    for (size_t i = 0; i < n; i++) {
        hosts[i].uri = o->connects[i];
        if (!(hosts[i].out = tmpfile())) {
            vn_error("cannot create a temporary file for host '%s'",
                     hosts[i].uri);
            for (size_t k = 0; k < i; k++)
                fclose(hosts[k].out);
            return -1;
        }
    }
    return 0;
}

/* Runs a child per host, at most --jobs at a time, waited for in start
 * order. */
static void
run_hosts(struct host_job *hosts, size_t n, const struct vn_apply_opts *o,
          const struct nst_profile *profile)
{
    size_t started = 0, finished = 0;
    unsigned int jobs = o->jobs ? o->jobs : 4;

    while (finished < n) {
        while (started < n && started - finished < jobs) {
            hosts[started].pid = start_host(&hosts[started], o, profile);
            if (hosts[started].pid < 0) {
                vn_error("host '%s': cannot start a process for it",
                         hosts[started].uri);
                hosts[started].exit = VN_EXIT_SYSTEM;
            }
            started++;
        }
        if (hosts[finished].pid > 0)
            wait_host(&hosts[finished]);
        finished++;
    }
}

int
vn_apply_fleet(const struct vn_apply_opts *o, const struct nst_profile *profile)
{
    size_t n = o->nconnects;
    struct host_job *hosts = calloc(n, sizeof(*hosts));
    bool failed = false, pending = false;
    struct nst_buf all = { 0 };
    struct json_object *doc = NULL, *list = NULL;
    bool ok = true;

    if (!hosts) {
        vn_error("out of memory");
        return VN_EXIT_SYSTEM;
    }
    if (open_outputs(hosts, n, o) < 0) {
        free(hosts);
        return VN_EXIT_SYSTEM;
    }
    run_hosts(hosts, n, o, profile);

    if (o->output == VN_OUTPUT_JSON) {
        doc = json_object_new_object();
        list = json_object_new_array();
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        /* the child wrote through the same open file: read it from
         * the start (NULL: as a host that printed nothing) */
        rewind(hosts[i].out);
        char *text = vn_read_fd(fileno(hosts[i].out), hosts[i].uri, &len,
                                NULL);
        int code = hosts[i].exit;
        failed |= code != VN_EXIT_OK && code != VN_EXIT_PENDING;
        pending |= code == VN_EXIT_PENDING;
        if (o->output == VN_OUTPUT_JSON) {
            struct json_object *host = json_object_new_object();
            struct json_object *result = host_document(&hosts[i], text, len);
            /* A host that printed something else failed. */
            failed |= !result && text && len;
            nst_json_add_string(host, "connect", hosts[i].uri, &ok);
            nst_json_add_int(host, "exit", code, &ok);
            if (result)
                nst_json_add(host, "result", result, &ok);
            else
                nst_json_add_null(host, "result", &ok);
            nst_json_append(list, host, &ok);
        } else {
            nst_buf_addf(&all, "%s== host '%s' ==\n", i ? "\n" : "",
                         hosts[i].uri);
            if (text)
                nst_buf_add(&all, text, len);
        }
        free(text);
        fclose(hosts[i].out);
    }
    if (o->output == VN_OUTPUT_JSON) {
        nst_json_add(doc, "hosts", list, &ok);
        char *text = nst_json_finish(doc, ok);
        if (text)
            nst_buf_adds(&all, text);
        else
            all.oom = 1;
        free(text);
    }
    free(hosts);

    size_t len;
    char *text = nst_buf_finish(&all, &len);
    if (!text || vn_write_stdout(text, len) < 0) {
        free(text);
        vn_error("cannot write to stdout");
        return VN_EXIT_SYSTEM;
    }
    free(text);
    return failed ? VN_EXIT_PARTIAL :
           o->check && pending ? VN_EXIT_PENDING : VN_EXIT_OK;
}
