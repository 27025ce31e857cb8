/*
 * handoff.c: the libvirt-free virt-nestify hands connected work over
 *
 * Loading libvirt costs more than a whole offline run (58 shared
 * libraries, their constructors, ~10 MB): virt-nestify itself does not
 * link it.  Everything that needs a connection (live, bulk, fleets,
 * rollback, verify, lint of domains, the host doctor's libvirt check)
 * lives in virt-nestify-live, the complete tool, which this file execs
 * with the same arguments.  main.c decides, from its command table and
 * the option table, before anything is parsed: virt-nestify-live parses
 * the options, builds the profile and loads --xslt once.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

int
vn_handoff(char **argv)
{
    const char *path = helper_path();
    fflush(NULL);
    execv(path, argv);
    vn_error("cannot run '%s' for the connected commands: %s", path,
             strerror(errno));
    return VN_EXIT_SYSTEM;
}
