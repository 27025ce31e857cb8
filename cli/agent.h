/*
 * agent.h: the QEMU guest agent's protocol, as "virt-nestify verify"
 * speaks it through libvirt's agent passthrough
 *
 * No libvirt here (the offline parts of the tool must not need it): this
 * builds the requests (guest-ping, guest-get-osinfo, guest-exec,
 * guest-exec-status) as JSON texts and reads the replies (both with
 * json-c), decodes the base64 of the captured output, and reads the kvm
 * module's nested parameter as verify reads it in a Linux guest (its
 * /proc/cpuinfo is cpuinfo.c's) and the answer of a Windows guest to
 * verify's PowerShell query.
 */
#ifndef NESTIFY_AGENT_H
#define NESTIFY_AGENT_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/* ------------------------------------------------------------- requests */

/* The requests as JSON texts: new strings the caller frees, NULL only
 * when out of memory.  Every string is escaped as JSON needs. */
char *vn_agent_ping_request(void);
char *vn_agent_osinfo_request(void);
/* guest-exec of path with args (nargs of them), output captured. */
char *vn_agent_exec_request(const char *path, const char *const *args,
                            size_t nargs);
char *vn_agent_exec_status_request(long long pid);

/* --------------------------------------------------------------- replies */

/*
 * The "return" member of a reply ({"return": ...}).  A reply with
 * "error" gives -1 with *err set to the agent's description ("the agent
 * refused 'guest-exec': DESC"); so do text that is not JSON and a reply
 * with neither member.  On 0, *ret is the whole parsed reply (free with
 * json_object_put) and *value points into it.
 */
int vn_agent_parse_return(const char *reply, const char *command,
                          struct json_object **ret,
                          struct json_object **value, char **err);

/* guest-exec's reply: {"return": {"pid": N}}.  Returns 0 with *pid set,
 * or -1 with *err set. */
int vn_agent_parse_exec(const char *reply, long long *pid, char **err);

/*
 * guest-get-osinfo's reply (qemu-ga 2.10 and later).  Returns 0 with
 * *windows true when its "id" is "mswindows" (what qemu-ga for Windows
 * says) and *name the OS's "pretty-name" (else "name"; NULL when it has
 * neither), a new string, at most 80 characters, control characters as
 * '?': it is the guest's text, printed in one line.  A reply with
 * "error" (an agent without the command, or one that blocks it) and a
 * malformed one give -1 with *err set.
 */
int vn_agent_parse_osinfo(const char *reply, bool *windows, char **name,
                          char **err);

/* What guest-exec-status says of a process. */
struct vn_agent_exec_status {
    bool exited;
    bool has_exitcode;           /* exited normally */
    int exitcode;
    bool has_signal;             /* killed by a signal */
    int signal;
    char *out;                   /* decoded out-data, NUL-terminated; */
    size_t out_len;              /* NULL when the reply had none */
    bool out_truncated;
    char *err;                   /* decoded err-data, likewise */
    size_t err_len;
    bool err_truncated;
};

/*
 * Reads a guest-exec-status reply into *st (clear it with
 * vn_agent_exec_status_clear even on failure).  A process still running
 * has exited false and nothing else.  Returns 0, or -1 with *err set for
 * malformed replies: not JSON, no "exited", a wrong type, bad base64.
 */
int vn_agent_parse_exec_status(const char *reply,
                               struct vn_agent_exec_status *st, char **err);
void vn_agent_exec_status_clear(struct vn_agent_exec_status *st);

/*
 * Decodes standard base64 with padding (what GLib's g_base64_encode
 * writes), strictly: a length that is not a multiple of 4 is truncated
 * input, any other character is an error.  Returns 0 with *out (a new
 * NUL-terminated buffer, free()) and *out_len, or -1 with *err set.
 */
int vn_base64_decode(const char *in, size_t len, char **out, size_t *out_len,
                     char **err);

/* ----------------------------------------------------------- guest files */

/*
 * The value of /sys/module/kvm_{intel,amd}/parameters/nested: 1 for "Y"
 * or "1" (what kernels write), 0 for "N" or "0", -1 for anything else.
 * One trailing newline is allowed.
 */
int vn_nested_param_parse(const char *text, size_t len);

/*
 * A Windows guest's hardware virtualization, as Windows itself reports
 * it: what verify runs there (vn_windows_query_args, for powershell.exe)
 * prints one JSON document (ConvertTo-Json) that
 * vn_windows_virt_parse reads.
 */
struct vn_windows_virt {
    unsigned int cpus;           /* Win32_Processor instances (sockets) */
    unsigned int vmx;            /* ... with VMMonitorModeExtensions */
    unsigned int slat;           /* ... SecondLevelAddressTranslation... */
    unsigned int firmware;       /* ... VirtualizationFirmwareEnabled */
    int vbs;                     /* Win32_DeviceGuard's
                                  * VirtualizationBasedSecurityStatus
                                  * (2: running), -1 when not reported */
    bool hypervisor_support;     /* its AvailableSecurityProperties has 1 */
};
extern const char *const vn_windows_query_args[];
extern const size_t vn_windows_query_nargs;
/*
 * Reads the query's output (trailing white space allowed, as PowerShell
 * ends it with CRLF).  Returns 0, or -1 with *err set when it is not the
 * document the query prints.
 */
int vn_windows_virt_parse(const char *text, size_t len,
                          struct vn_windows_virt *w, char **err);

#endif /* NESTIFY_AGENT_H */
