/*
 * util.c: messages and files for the tool
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "tool.h"

#define MAX_INPUT (64u << 20)

/* Names the host in every message of a fleet's per-host process. */
static const char *message_context;

void
vn_set_message_context(const char *context)
{
    message_context = context;
}

/* Every message is one line: libvirt's (a schema validation error lists
 * its findings line by line) and quoted input may hold newlines; a run of
 * them becomes "; ", trailing ones go.  Returns a new string or NULL. */
static char *
one_line(const char *text)
{
    char *out = malloc(2 * strlen(text) + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *in = text; *in; in++) {
        if (*in != '\n' && *in != '\r') {
            *o++ = *in;
            continue;
        }
        while (in[1] == '\n' || in[1] == '\r')
            in++;
        if (in[1] && o > out) {
            *o++ = ';';
            *o++ = ' ';
        }
    }
    *o = '\0';
    return out;
}

static void
message(const char *kind, const char *fmt, va_list ap)
{
    char *text = nst_vprintf(fmt, ap);
    char *line = text ? one_line(text) : NULL;
    fprintf(stderr, "virt-nestify: %s: %s%s%s\n", kind,
            message_context ? message_context : "",
            message_context ? ": " : "", line ? line : fmt);
    free(line);
    free(text);
}

void
vn_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    message("error", fmt, ap);
    va_end(ap);
}

void
vn_warning(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    message("warning", fmt, ap);
    va_end(ap);
}

char *
vn_read_file(const char *path, size_t *len, char **err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    struct nst_buf buf = { 0 };
    char chunk[65536];
    ssize_t n;

    if (fd < 0) {
        nst_set_error(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            nst_set_error(err, "%s: %s", is_stdin ? "stdin" : path,
                          strerror(errno));
            goto fail;
        }
        nst_buf_add(&buf, chunk, (size_t)n);
        if (buf.len > MAX_INPUT) {
            nst_set_error(err, "%s: larger than 64 MiB",
                          is_stdin ? "stdin" : path);
            goto fail;
        }
    }
    if (!is_stdin)
        close(fd);
    char *data = nst_buf_finish(&buf, len);
    if (!data)
        nst_set_error(err, "%s: out of memory", path);
    return data;

 fail:
    if (!is_stdin)
        close(fd);
    free(nst_buf_finish(&buf, NULL));
    return NULL;
}

/*
 * Writes data to a temporary file beside target, gives it mode, syncs
 * it and renames it over target.  path names the file in errors.
 */
static int
write_atomic(const char *path, const char *target, mode_t mode,
             const char *data, size_t len, char **err)
{
    char *tmp = NULL;
    int fd = -1;

    if (!(tmp = nst_printf("%s.XXXXXX", target)) || (fd = mkstemp(tmp)) < 0) {
        nst_set_error(err, "%s: cannot create a temporary file: %s", path,
                      strerror(errno));
        free(tmp);
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        done += (size_t)n;
    }
    if (fchmod(fd, mode & 07777) < 0 || fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, target) < 0)
        goto fail;
    free(tmp);
    return 0;

 fail:
    nst_set_error(err, "%s: cannot write: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return -1;
}

int
vn_write_file_atomic(const char *path, const char *data, size_t len,
                     char **err)
{
    struct stat st;
    /* Write where a symlink points, so the link stays a link. */
    char *target = realpath(path, NULL);

    if (!target || stat(target, &st) < 0) {
        nst_set_error(err, "%s: %s", path, strerror(errno));
        free(target);
        return -1;
    }
    int ret = write_atomic(path, target, st.st_mode, data, len, err);
    free(target);
    return ret;
}

int
vn_create_file_atomic(const char *path, const char *data, size_t len,
                      unsigned int mode, char **err)
{
    struct stat st;

    if (lstat(path, &st) == 0)
        return vn_write_file_atomic(path, data, len, err);
    if (errno != ENOENT) {
        nst_set_error(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    return write_atomic(path, path, (mode_t)mode, data, len, err);
}

int
vn_write_stdout(const char *data, size_t len)
{
    if (len && fwrite(data, 1, len, stdout) != len)
        return -1;
    return fflush(stdout) == 0 ? 0 : -1;
}

char *
vn_mask_secrets(const char *xml, size_t len, const char *label, char **err)
{
    struct nst_doc *doc;
    if (nst_doc_parse(xml, len, label, &doc, err) < 0)
        return NULL;
    char *masked = nst_doc_masked(doc, NULL);
    nst_doc_free(doc);
    if (!masked)
        nst_set_error(err, "out of memory");
    return masked;
}

int
vn_parse_output(const char *arg, enum vn_output *out)
{
    if (strcmp(arg, "text") == 0) {
        *out = VN_OUTPUT_TEXT;
    } else if (strcmp(arg, "json") == 0) {
        *out = VN_OUTPUT_JSON;
    } else {
        vn_error("--output must be 'text' or 'json', not '%s'", arg);
        return -1;
    }
    return 0;
}

int
vn_parse_taken(const char *text, struct nst_cpuset *set, bool *given)
{
    char *err = NULL;

    if (nst_cpuset_parse(text, set, &err) < 0) {
        vn_error("--taken: %s", err ? err : "out of memory");
        free(err);
        return -1;
    }
    *given = true;
    return 0;
}

int
vn_push(char ***list, size_t *n, char *item)
{
    char **more = realloc(*list, (*n + 1) * sizeof(**list));
    if (!more) {
        vn_error("out of memory");
        return -1;
    }
    *list = more;
    (*list)[(*n)++] = item;
    return 0;
}
