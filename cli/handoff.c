/*
 * handoff.c: the libvirt-free virt-nestify hands connected work over
 *
 * Loading libvirt costs more than a whole offline run (58 shared
 * libraries, their constructors, ~10 MB): virt-nestify itself does not
 * link it.  Everything that needs a connection (live, bulk, fleets,
 * rollback, verify, lint of domains, the host doctor's libvirt check)
 * lives in virt-nestify-live, the complete tool, which this file execs
 * with the same arguments once the options were found good.
 * virt-nestify-live links the real functions instead (cli/run-connected.c,
 * cmd-rollback.c, cmd-verify.c, cmd-lint-live.c, host-libvirt.c).
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "host-doctor.h"
#include "lint.h"
#include "tool.h"

/*
 * The helper next to the program when the program runs from its build
 * tree (tests, "make demo"), else the installed one.  Nothing else is
 * looked at: no $PATH, no environment.  Both programs link libnestify
 * statically (Makefile.am), so libtool builds them as they are, not as
 * wrapper scripts around .libs/lt-virt-nestify: the build tree's
 * /proc/self/exe is $(abs_top_builddir)/virt-nestify itself, and an
 * installed copy is never taken for it.
 */
static const char *
helper_path(void)
{
    static char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        if (strcmp(self, VN_BUILDDIR "/virt-nestify") == 0)
            return VN_BUILDDIR "/virt-nestify-live";
    }
    return VN_LIVE_HELPER;
}

static int
handoff(void)
{
    const char *path = helper_path();
    fflush(NULL);
    execv(path, vn_argv);
    vn_error("cannot run '%s' for the connected commands: %s", path,
             strerror(errno));
    return VN_EXIT_SYSTEM;
}

int
vn_apply_connected(const struct vn_apply_opts *o,
                   const struct nst_profile *profile)
{
    return handoff();
}

int
vn_cmd_rollback(int argc, char **argv)
{
    return handoff();
}

int
vn_cmd_verify(int argc, char **argv)
{
    return handoff();
}

/* lint --domain/--all: cmd-lint.c found the options good; the live program
 * runs the whole command again. */
int
vn_lint_live(const struct vn_lint_opts *o, struct vn_lint_results *out,
             char **err)
{
    return handoff();
}

/* host -c: the doctor reaches this before it prints anything; the live
 * program runs the whole command again. */
int
vn_doctor_libvirt_check(const char *uri, struct vn_doctor_libvirt *out,
                        char **err)
{
    return handoff();
}
