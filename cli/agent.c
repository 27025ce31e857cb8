/*
 * agent.c: the QEMU guest agent's protocol (see agent.h); no libvirt
 *
 * Requests are built and replies read with json-c.  The replies come
 * from inside the guest, so nothing in them is trusted: json-c's strict
 * tokener reads them (nesting bounded, junk after the document refused)
 * and every member's type is checked before it is used.
 *
 * base64 is decoded here, in a few lines, although GLib (loaded with
 * libvirt) has g_base64_decode: GLib's decoder skips characters it does
 * not know and has no way to report bad input, so the strict checks
 * below would be needed anyway; and this file is also built without
 * libvirt (into the offline program and tests/test-agent), where GLib
 * is not otherwise loaded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "agent.h"
#include "nestify.h"

/* ------------------------------------------------------------- requests */

/* What the agent is sent: json-c's plain form, '/' not escaped. */
static char *
request_text(struct json_object *req, bool ok)
{
    const char *text = ok && req ?
        json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
                                       JSON_C_TO_STRING_NOSLASHESCAPE) :
        NULL;
    char *copy = text ? nst_printf("%s", text) : NULL;
    json_object_put(req);
    return copy;
}

/* {"execute": command, "arguments": arguments}, taking arguments (NULL:
 * none); ok false when they could not be made. */
static char *
request(const char *command, struct json_object *arguments, bool ok)
{
    struct json_object *req = json_object_new_object();

    nst_json_add_string(req, "execute", command, &ok);
    if (arguments)
        nst_json_add(req, "arguments", arguments, &ok);
    return request_text(req, ok);
}

char *
vn_agent_ping_request(void)
{
    return request("guest-ping", NULL, true);
}

char *
vn_agent_osinfo_request(void)
{
    return request("guest-get-osinfo", NULL, true);
}

char *
vn_agent_exec_request(const char *path, const char *const *args,
                      size_t nargs)
{
    struct json_object *arguments = json_object_new_object();
    struct json_object *list = json_object_new_array();
    bool ok = true;

    nst_json_add_string(arguments, "path", path, &ok);
    for (size_t i = 0; i < nargs; i++)
        nst_json_append(list, json_object_new_string(args[i]), &ok);
    nst_json_add(arguments, "arg", list, &ok);
    nst_json_add_bool(arguments, "capture-output", true, &ok);
    return request("guest-exec", arguments, ok);
}

char *
vn_agent_exec_status_request(long long pid)
{
    struct json_object *arguments = json_object_new_object();
    bool ok = true;

    nst_json_add_int(arguments, "pid", pid, &ok);
    return request("guest-exec-status", arguments, ok);
}

/* --------------------------------------------------------------- replies */

/* The string member key of obj, or NULL. */
static const char *
get_string(struct json_object *obj, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(obj, key, &v) &&
           json_object_is_type(v, json_type_string) ?
           json_object_get_string(v) : NULL;
}

int
vn_agent_parse_return(const char *reply, const char *command,
                      struct json_object **ret, struct json_object **value,
                      char **err)
{
    char *why = NULL;
    struct json_object *doc, *error;

    *ret = NULL;
    *value = NULL;
    if (!reply) {
        nst_set_error(err, "no reply to '%s'", command);
        return -1;
    }
    doc = nst_json_parse(reply, strlen(reply), &why);
    if (why) {
        nst_set_error(err, "the reply to '%s' is not JSON (%s)", command, why);
        free(why);
        return -1;
    }
    if (!json_object_is_type(doc, json_type_object)) {
        nst_set_error(err, "the reply to '%s' is not a JSON object", command);
    } else if (json_object_object_get_ex(doc, "error", &error)) {
        const char *desc = get_string(error, "desc");
        const char *cls = get_string(error, "class");
        nst_set_error(err, "the guest agent refused '%s': %s%s%s%s", command,
                      desc ? desc : "no reason given", cls ? " (" : "",
                      cls ? cls : "", cls ? ")" : "");
    } else if (!json_object_object_get_ex(doc, "return", value)) {
        nst_set_error(err, "the reply to '%s' has no \"return\"", command);
    } else {
        *ret = doc;
        return 0;
    }
    json_object_put(doc);
    return -1;
}

int
vn_agent_parse_exec(const char *reply, long long *pid, char **err)
{
    struct json_object *doc, *val, *p;

    if (vn_agent_parse_return(reply, "guest-exec", &doc, &val, err) < 0)
        return -1;
    int ret = -1;
    /* json-c saturates whole numbers beyond int64 to its limits. */
    if (!json_object_object_get_ex(val, "pid", &p))
        nst_set_error(err, "the reply to 'guest-exec' has no \"pid\"");
    else if (!json_object_is_type(p, json_type_int) ||
             json_object_get_int64(p) < 0 ||
             json_object_get_int64(p) == INT64_MAX)
        nst_set_error(err, "the reply to 'guest-exec' has a \"pid\" that is "
                      "not a process id");
    else {
        *pid = json_object_get_int64(p);
        ret = 0;
    }
    json_object_put(doc);
    return ret;
}

int
vn_agent_parse_osinfo(const char *reply, bool *windows, char **name,
                      char **err)
{
    struct json_object *doc, *val;

    *windows = false;
    *name = NULL;
    if (vn_agent_parse_return(reply, "guest-get-osinfo", &doc, &val,
                              err) < 0)
        return -1;
    if (!json_object_is_type(val, json_type_object)) {
        nst_set_error(err, "the reply to 'guest-get-osinfo' is not an "
                      "object");
        json_object_put(doc);
        return -1;
    }
    /* Every member is optional (qemu-ga leaves out what os-release
     * lacks); "mswindows" is the id qemu-ga for Windows always gives. */
    const char *id = get_string(val, "id");
    const char *pretty = get_string(val, "pretty-name");
    if (!pretty)
        pretty = get_string(val, "name");
    *windows = id && strcmp(id, "mswindows") == 0;
    if (pretty) {
        *name = nst_printf("%.80s", pretty);
        for (char *c = *name; c && *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = '?';
    }
    json_object_put(doc);
    return 0;
}

/* Reads an optional boolean member; -1 (with *err) on a wrong type. */
static int
get_bool(struct json_object *obj, const char *key, bool *out, char **err)
{
    struct json_object *v;
    *out = false;
    if (!json_object_object_get_ex(obj, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_boolean)) {
        nst_set_error(err, "the reply to 'guest-exec-status' has a \"%s\" "
                      "that is not true or false", key);
        return -1;
    }
    *out = json_object_get_boolean(v);
    return 0;
}

/* Reads an optional integer member into an int. */
static int
get_int(struct json_object *obj, const char *key, bool *has, int *out,
        char **err)
{
    struct json_object *v;
    *has = false;
    *out = 0;
    if (!json_object_object_get_ex(obj, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_int) ||
        json_object_get_int64(v) < INT32_MIN ||
        json_object_get_int64(v) > INT32_MAX) {
        nst_set_error(err, "the reply to 'guest-exec-status' has a \"%s\" "
                      "that is not a whole number", key);
        return -1;
    }
    *has = true;
    *out = (int)json_object_get_int64(v);
    return 0;
}

/* Decodes an optional base64 member. */
static int
get_data(struct json_object *obj, const char *key, char **out,
         size_t *out_len, char **err)
{
    struct json_object *v;
    char *why = NULL;
    if (!json_object_object_get_ex(obj, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_string)) {
        nst_set_error(err, "the reply to 'guest-exec-status' has a \"%s\" "
                      "that is not a string", key);
        return -1;
    }
    /* Its length, not strlen: an escaped NUL is bad base64 too. */
    if (vn_base64_decode(json_object_get_string(v),
                         (size_t)json_object_get_string_len(v), out, out_len,
                         &why) < 0) {
        nst_set_error(err, "the reply to 'guest-exec-status' has a bad "
                      "\"%s\": %s", key, why);
        free(why);
        return -1;
    }
    return 0;
}

int
vn_agent_parse_exec_status(const char *reply,
                           struct vn_agent_exec_status *st, char **err)
{
    struct json_object *doc, *val, *exited;
    int ret = -1;

    memset(st, 0, sizeof(*st));
    if (vn_agent_parse_return(reply, "guest-exec-status", &doc, &val,
                              err) < 0)
        return -1;
    if (!json_object_is_type(val, json_type_object)) {
        nst_set_error(err, "the reply to 'guest-exec-status' is not an "
                      "object");
        goto out;
    }
    if (!json_object_object_get_ex(val, "exited", &exited)) {
        nst_set_error(err, "the reply to 'guest-exec-status' has no "
                      "\"exited\"");
        goto out;
    }
    if (get_bool(val, "exited", &st->exited, err) < 0)
        goto out;
    if (!st->exited) {
        ret = 0;
        goto out;
    }
    if (get_int(val, "exitcode", &st->has_exitcode, &st->exitcode, err) < 0 ||
        get_int(val, "signal", &st->has_signal, &st->signal, err) < 0 ||
        get_bool(val, "out-truncated", &st->out_truncated, err) < 0 ||
        get_bool(val, "err-truncated", &st->err_truncated, err) < 0 ||
        get_data(val, "out-data", &st->out, &st->out_len, err) < 0 ||
        get_data(val, "err-data", &st->err, &st->err_len, err) < 0)
        goto out;
    if (!st->has_exitcode && !st->has_signal) {
        nst_set_error(err, "the reply to 'guest-exec-status' says the "
                      "process exited but has neither \"exitcode\" nor "
                      "\"signal\"");
        goto out;
    }
    ret = 0;
 out:
    json_object_put(doc);
    return ret;
}

void
vn_agent_exec_status_clear(struct vn_agent_exec_status *st)
{
    free(st->out);
    free(st->err);
    memset(st, 0, sizeof(*st));
}

static int
b64_value(char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' :
           c >= 'a' && c <= 'z' ? c - 'a' + 26 :
           c >= '0' && c <= '9' ? c - '0' + 52 :
           c == '+' ? 62 : c == '/' ? 63 : -1;
}

int
vn_base64_decode(const char *in, size_t len, char **out, size_t *out_len,
                 char **err)
{
    *out = NULL;
    *out_len = 0;
    if (len % 4 != 0) {
        nst_set_error(err, "truncated base64 (%zu characters, not a "
                      "multiple of 4)", len);
        return -1;
    }
    char *buf = malloc(len / 4 * 3 + 1);
    size_t n = 0;
    if (!buf) {
        nst_set_error(err, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        int v[4];
        size_t pad = 0;
        for (size_t k = 0; k < 4; k++) {
            char c = in[i + k];
            if (c == '=' && last && k >= 2) {
                /* Padding: only at the end, then nothing but padding. */
                v[k] = 0;
                pad++;
                continue;
            }
            v[k] = pad ? -1 : b64_value(c);
            if (v[k] < 0) {
                nst_set_error(err, "invalid base64 at character %zu",
                              i + k);
                free(buf);
                return -1;
            }
        }
        unsigned int bits = (unsigned int)v[0] << 18 |
                            (unsigned int)v[1] << 12 |
                            (unsigned int)v[2] << 6 | (unsigned int)v[3];
        buf[n++] = (char)(bits >> 16);
        if (pad < 2)
            buf[n++] = (char)(bits >> 8 & 0xff);
        if (pad < 1)
            buf[n++] = (char)(bits & 0xff);
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return 0;
}

/* ----------------------------------------------------------- guest files */

int
vn_nested_param_parse(const char *text, size_t len)
{
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len != 1)
        return -1;
    return text[0] == 'Y' || text[0] == '1' ? 1 :
           text[0] == 'N' || text[0] == '0' ? 0 : -1;
}

/* -------------------------------------------------------- Windows guests */

/*
 * What verify asks a Windows guest, as powershell.exe's arguments.
 *
 * PowerShell and its ConvertTo-Json, not systeminfo: systeminfo's
 * "Hyper-V Requirements" are translated with Windows's display language
 * (names and "Yes"/"No" alike), and it prints none of them as soon as
 * the CPU says a hypervisor is present ("A hypervisor has been
 * detected..."), which is so in every KVM guest (KVM sets that CPUID
 * bit), so it would tell nothing here.  The CIM classes' property names
 * and values are the same in every language.  Win32_ComputerSystem's
 * HypervisorPresent is not asked for the same reason.
 *
 * Win32_Processor gives the Hyper-V requirements per socket: VT-x or
 * AMD-V (VMMonitorModeExtensions), SLAT, and virtualization enabled in
 * firmware (IA32_FEATURE_CONTROL, which the guest's firmware sets).
 * Once the Windows hypervisor runs in the guest (Hyper-V, WSL2, VBS),
 * Windows runs on top of it and reports them false (the hypervisor
 * does not pass VT-x or AMD-V on to it); Win32_DeviceGuard (Windows 10
 * and later; null before) then says whether it runs (VBS: its
 * VirtualizationBasedSecurityStatus is 2) and whether the hypervisor
 * can run (AvailableSecurityProperties holds 1), running or not.
 *
 * No double quotes: the arguments pass through Windows's command line
 * (quoted by qemu-ga's GLib, split again by powershell.exe), and the
 * two need not agree on quotes.
 */
const char *const vn_windows_query_args[] = {
    "-NoProfile", "-NonInteractive", "-Command",
    "$g = Get-CimInstance -Namespace root/Microsoft/Windows/DeviceGuard "
    "-ClassName Win32_DeviceGuard -ErrorAction SilentlyContinue; "
    "[pscustomobject]@{ Processors = @(Get-CimInstance -ClassName "
    "Win32_Processor | Select-Object VMMonitorModeExtensions, "
    "SecondLevelAddressTranslationExtensions, "
    "VirtualizationFirmwareEnabled); "
    "VirtualizationBasedSecurityStatus = "
    "$g.VirtualizationBasedSecurityStatus; "
    "AvailableSecurityProperties = $g.AvailableSecurityProperties } | "
    "ConvertTo-Json -Compress -Depth 3",
};
const size_t vn_windows_query_nargs = sizeof(vn_windows_query_args) /
                                      sizeof(vn_windows_query_args[0]);

/*
 * The elements of a list member as Windows PowerShell 5.1 writes it:
 * an array, a single value for a list of one, or {"value": [...],
 * "Count": n} for an array it wrapped (its ConvertTo-Json does that to
 * some arrays).  Returns the array or the single value (*single set),
 * NULL for null or a missing member.
 */
static struct json_object *
ps_list(struct json_object *obj, const char *key, bool *single)
{
    struct json_object *v, *inner;
    *single = false;
    if (!json_object_object_get_ex(obj, key, &v) || !v)
        return NULL;
    if (json_object_is_type(v, json_type_object) &&
        json_object_object_get_ex(v, "value", &inner) &&
        json_object_is_type(inner, json_type_array))
        return inner;
    *single = !json_object_is_type(v, json_type_array);
    return v;
}

static size_t
ps_length(struct json_object *list, bool single)
{
    return !list ? 0 : single ? 1 : json_object_array_length(list);
}

static struct json_object *
ps_item(struct json_object *list, bool single, size_t i)
{
    return single ? list : json_object_array_get_idx(list, i);
}

/* A processor's boolean property: 1 true, 0 false or null (Windows
 * leaves it null where it cannot tell), -1 another type. */
static int
ps_bool(struct json_object *cpu, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(cpu, key, &v) || !v)
        return 0;
    if (!json_object_is_type(v, json_type_boolean))
        return -1;
    return json_object_get_boolean(v) ? 1 : 0;
}

int
vn_windows_virt_parse(const char *text, size_t len,
                      struct vn_windows_virt *w, char **err)
{
    static const char *const props[] = {
        "VMMonitorModeExtensions", "SecondLevelAddressTranslationExtensions",
        "VirtualizationFirmwareEnabled" };
    char *why = NULL;
    int ret = -1;
    bool single;

    memset(w, 0, sizeof(*w));
    w->vbs = -1;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
                       text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    struct json_object *doc = nst_json_parse(text, len, &why);
    if (why) {
        nst_set_error(err, "not JSON (%s)", why);
        free(why);
        return -1;
    }
    if (!json_object_is_type(doc, json_type_object)) {
        nst_set_error(err, "not a JSON object");
        goto out;
    }
    struct json_object *cpus = ps_list(doc, "Processors", &single);
    if (!ps_length(cpus, single) ||
        (single && !json_object_is_type(cpus, json_type_object))) {
        nst_set_error(err, "no \"Processors\"");
        goto out;
    }
    for (size_t i = 0; i < ps_length(cpus, single); i++) {
        struct json_object *cpu = ps_item(cpus, single, i);
        unsigned int *counts[] = { &w->vmx, &w->slat, &w->firmware };
        if (!json_object_is_type(cpu, json_type_object)) {
            nst_set_error(err, "a processor that is not an object");
            goto out;
        }
        for (size_t k = 0; k < 3; k++) {
            int b = ps_bool(cpu, props[k]);
            if (b < 0) {
                nst_set_error(err, "a \"%s\" that is not true or false",
                              props[k]);
                goto out;
            }
            *counts[k] += (unsigned int)b;
        }
        w->cpus++;
    }
    struct json_object *vbs;
    if (json_object_object_get_ex(doc, "VirtualizationBasedSecurityStatus",
                                  &vbs) && vbs) {
        if (!json_object_is_type(vbs, json_type_int) ||
            json_object_get_int64(vbs) < 0 ||
            json_object_get_int64(vbs) > 255) {
            nst_set_error(err, "a \"VirtualizationBasedSecurityStatus\" "
                          "that is not a status");
            goto out;
        }
        w->vbs = (int)json_object_get_int64(vbs);
    }
    struct json_object *avail = ps_list(doc, "AvailableSecurityProperties",
                                        &single);
    for (size_t i = 0; i < ps_length(avail, single); i++) {
        struct json_object *p = ps_item(avail, single, i);
        if (!json_object_is_type(p, json_type_int)) {
            nst_set_error(err, "an \"AvailableSecurityProperties\" that is "
                          "not a list of numbers");
            goto out;
        }
        /* 1: "hypervisor support is available" (Win32_DeviceGuard). */
        if (json_object_get_int64(p) == 1)
            w->hypervisor_support = true;
    }
    ret = 0;
 out:
    json_object_put(doc);
    return ret;
}
