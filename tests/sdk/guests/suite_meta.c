/* Conformance: hearth::log and hearth::metadata — log, set_name,
 * set_description, add_author, set_repository, set_homepage, set_license.
 * Spawned with (reporter). The Python side checks the process's metadata
 * and the log records; after its report the guest waits for one message
 * (so that it is still alive to be looked at), then returns. */
#include "check.h"

void hearth_metadata(void) {
    hearth_set_name("conformance");
    hearth_set_description("the metadata suite");
    hearth_add_author("Ada");
    hearth_add_author("Grace");
    hearth_set_repository("https://example.org/hearth.git");
    hearth_abi_metadata_set_homepage("https://example.org/", 20);
    hearth_set_license("AGPL-3.0-or-later");
    hearth_log(HEARTH_INFO, "meta", "logged in the metadata phase");
}

static void child_set_name(void) { hearth_set_name("late"); }
static void child_set_description(void) { hearth_set_description("late"); }
static void child_add_author(void) { hearth_add_author("late"); }
static void child_set_repository(void) { hearth_set_repository("late"); }
static void child_set_homepage(void) { hearth_set_homepage("late"); }
static void child_set_license(void) { hearth_set_license("late"); }
static void child_log_level_5(void) { hearth_log(5, "conf", "too loud"); }
static void child_log_bad_utf8(void) { hearth_abi_log(HEARTH_INFO, "conf", 4, "\xff\xfe", 2); }

static void test_metadata_calls_trap_in_the_running_phase(void) {
    EXPECT_TRAP(child_set_name, 0, 0, "hearth::metadata::set_name: not allowed in the running phase");
    EXPECT_TRAP(child_set_description, 0, 0, "hearth::metadata::set_description: not allowed in the running phase");
    EXPECT_TRAP(child_add_author, 0, 0, "hearth::metadata::add_author: not allowed in the running phase");
    EXPECT_TRAP(child_set_repository, 0, 0, "hearth::metadata::set_repository: not allowed in the running phase");
    EXPECT_TRAP(child_set_homepage, 0, 0, "hearth::metadata::set_homepage: not allowed in the running phase");
    EXPECT_TRAP(child_set_license, 0, 0, "hearth::metadata::set_license: not allowed in the running phase");
}

static void test_log(void) {
    static const char *names[5] = {"trace", "debug", "info", "warning", "error"};
    for (uint32_t level = HEARTH_TRACE; level <= HEARTH_ERROR; level++)
        hearth_log(level, "conf", names[level]);
    hearth_log(HEARTH_INFO, "conf", "h\xc3\xa9llo \xe2\x9c\x93"); /* UTF-8 */
    hearth_abi_log(HEARTH_INFO, "", 0, "", 0);
    EXPECT_TRAP(child_log_level_5, 0, 0, "hearth::log::log: log level 5");
    EXPECT_TRAP(child_log_bad_utf8, 0, 0, "hearth::log::log:");
}

void run(void) {
    test_metadata_calls_trap_in_the_running_phase();
    test_log();
    check_report(0, "meta");
    hearth_signal s;
    hearth_recv(HEARTH_PARENT, &s);
}
