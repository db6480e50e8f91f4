# The labs: for each, the reference program (solutions/) and the learner's
# (labs/). Lab NN's program is lab NN-1's modules plus its own: the earlier
# modules always come from solutions/, so a learner works on one lab at a time.

set(NSLAB_LABS 01-uts 02-ipc 03-pid 04-mount 05-net 06-user 07-setns 08-cgroup)

# One library per solution's modules, reused by every later lab: every *.cpp
# directly in solutions/NN-name/ but main.cpp, so a lab may split its lesson
# over several files without touching this one (exercises/ hold programs of
# their own, below).
foreach(lab IN LISTS NSLAB_LABS)
  file(GLOB module_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/solutions/${lab}/*.cpp)
  list(FILTER module_sources EXCLUDE REGEX "/main\\.cpp$")
  if(module_sources)
    add_library(solution_module_${lab} STATIC ${module_sources})
    target_include_directories(solution_module_${lab} PUBLIC ${CMAKE_SOURCE_DIR}/solutions)
    target_link_libraries(solution_module_${lab} PUBLIC nslab_common PRIVATE nslab_flags)
  else()
    # A lab whose whole lesson is in main.cpp has nothing to share but headers.
    add_library(solution_module_${lab} INTERFACE)
    target_include_directories(solution_module_${lab} INTERFACE ${CMAKE_SOURCE_DIR}/solutions)
    target_link_libraries(solution_module_${lab} INTERFACE nslab_common)
  endif()
endforeach()

add_library(nslab_starter_flags INTERFACE)
target_compile_options(nslab_starter_flags INTERFACE -Wno-unused-parameter -Wno-unused-function)

# nslab_add_program(VARIANT solutions|labs LAB NN-name EARLIER <labs before it>)
function(nslab_add_program variant lab)
  set(earlier ${ARGN})
  set(target ${variant}_${lab})
  set(dir ${CMAKE_SOURCE_DIR}/${variant}/${lab})
  if(variant STREQUAL "solutions")
    add_executable(${target} ${dir}/main.cpp)
    target_link_libraries(${target} PRIVATE solution_module_${lab})
  else()
    # main.cpp and every other *.cpp of labs/NN-name/: the learner's own modules.
    file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.cpp)
    add_executable(${target} ${sources})
    # The learner's own headers first, then the solutions' for earlier labs.
    target_include_directories(${target} BEFORE PRIVATE ${CMAKE_SOURCE_DIR}/labs)
    target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/solutions)
    target_link_libraries(${target} PRIVATE nslab_common)
    # clang-tidy checks a starter too, but not for what its stubs leave unused
    # until the TODO is done (a parameter, a value computed for it), as
    # nslab_starter_flags below does for the compiler.
    if(CMAKE_CXX_CLANG_TIDY)
      set_target_properties(${target} PROPERTIES CXX_CLANG_TIDY
        "${CMAKE_CXX_CLANG_TIDY};--checks=-misc-unused-parameters,-clang-analyzer-deadcode.DeadStores")
    endif()
  endif()
  foreach(before IN LISTS earlier)
    target_link_libraries(${target} PRIVATE solution_module_${before})
  endforeach()
  target_link_libraries(${target} PRIVATE nslab_program)
  if(variant STREQUAL "labs")
    # After nslab_program's -Wextra: a starter's stubs leave parameters and
    # helpers unused until the TODO is done.
    target_link_libraries(${target} PRIVATE nslab_starter_flags)
  endif()
  set_target_properties(${target} PROPERTIES OUTPUT_NAME ${lab}
                        RUNTIME_OUTPUT_DIRECTORY ${NSLAB_BIN_DIR}/${variant})
endfunction()

set(earlier "")
foreach(lab IN LISTS NSLAB_LABS)
  nslab_add_program(solutions ${lab} ${earlier})
  nslab_add_program(labs ${lab} ${earlier})
  list(APPEND earlier ${lab})
endforeach()

# The exercises' programs: nslab_add_exercise(LAB PROGRAM SOURCE [LINK how]).
# The reference answer solutions/LAB/exercises/SOURCE becomes
# build/bin/solutions/PROGRAM; a learner's answer, labs/LAB/exercises/SOURCE,
# when they have written one, becomes build/bin/labs/PROGRAM, next to their lab
# program, where the exercise's tests look first (exercise_answer in
# common/bats/nslab.bash). LINK: program (the default: static where possible,
# like the labs), plain (the flags alone, dynamic), static (static even with
# the sanitizers: it must run inside a busybox root filesystem).
function(nslab_add_exercise lab program source)
  cmake_parse_arguments(PARSE_ARGV 3 ex "" "LINK" "")
  if(NOT ex_LINK)
    set(ex_LINK program)
  endif()
  foreach(variant IN ITEMS solutions labs)
    set(file ${CMAKE_SOURCE_DIR}/${variant}/${lab}/exercises/${source})
    if(variant STREQUAL "labs")
      # Checked again at every build, so that a learner's new answer is built.
      file(GLOB answers CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/labs/${lab}/exercises/*)
      if(NOT EXISTS ${file})
        continue()
      endif()
    endif()
    string(MAKE_C_IDENTIFIER "exercise_${variant}_${program}" target)
    add_executable(${target} ${file})
    if(ex_LINK STREQUAL "plain")
      target_link_libraries(${target} PRIVATE nslab_flags)
    elseif(ex_LINK STREQUAL "static")
      target_compile_options(${target} PRIVATE -Wall -Wextra)
      if(NSLAB_LINK_STATIC)
        target_link_options(${target} PRIVATE -static)
      endif()
    else()
      target_link_libraries(${target} PRIVATE nslab_program)
    endif()
    if(variant STREQUAL "labs")
      set_target_properties(${target} PROPERTIES CXX_CLANG_TIDY "")
    endif()
    set_target_properties(${target} PROPERTIES OUTPUT_NAME ${program}
                          RUNTIME_OUTPUT_DIRECTORY ${NSLAB_BIN_DIR}/${variant})
  endforeach()
endfunction()

nslab_add_exercise(02-ipc 02-ipc-unshare unshare_ipc.cpp LINK plain)
# Lab 03's exercises: unshare(CLONE_NEWPID) then fork, and kill(2) of a host PID.
nslab_add_exercise(03-pid 03-pid-unshare pid_unshare.cpp)
nslab_add_exercise(03-pid 03-pid-kill-host kill_host.cpp)
# Lab 05's exercise: lo brought up with hand-written netlink, no library.
nslab_add_exercise(05-net 05-net-lo-up lo_up.cpp)
# Lab 06's exercises: the maps written by hand, a capability and the owner of
# a namespace, and root inside against a file of the host's root.
nslab_add_exercise(06-user 06-user-maps-by-hand maps_by_hand.cpp)
nslab_add_exercise(06-user 06-user-caps caps.cpp)
nslab_add_exercise(06-user 06-user-write-root-file write_root_file.cpp)
# Lab 07's exercises: a namespace kept by a bind mount and joined, setns(2)
# with a pidfd, and getpid() after setns into a PID namespace.
nslab_add_exercise(07-setns 07-setns-join-file join_file.cpp)
nslab_add_exercise(07-setns 07-setns-pidfd pidfd_join.cpp)
nslab_add_exercise(07-setns 07-setns-getpid getpid_after_setns.cpp)
# Lab 08's exercise: a cgroup namespace made before the move, and after it.
nslab_add_exercise(08-cgroup 08-cgroup-ns-early cgroupns_too_early.cpp)
# Static, so that it runs inside a busybox root filesystem; no sanitizers there.
# Where static linking is impossible the top CMakeLists.txt says so: built
# dynamically, it still runs on the host, but not inside the busybox rootfs.
nslab_add_exercise(04-mount chroot-escape chroot_escape.cpp LINK static)
nslab_add_exercise(04-mount 04-mount-fd-escape fd_escape.cpp LINK static)
nslab_add_exercise(04-mount 04-mount-proc-escape proc_root_escape.cpp LINK static)

# The safety net's test programs: reference labs with one clone flag removed,
# as a learner might leave them (common/bats/safety_net.bats runs them).
foreach(forgotten IN ITEMS UTS MNT)
  string(TOLOWER ${forgotten} name)
  add_executable(forgetful_${name} common/tests/programs/forgetful_lab.cpp)
  target_compile_definitions(forgetful_${name} PRIVATE FORGET_${forgotten})
  target_link_libraries(forgetful_${name} PRIVATE solution_module_01-uts solution_module_02-ipc
                        solution_module_03-pid solution_module_04-mount nslab_program)
  set_target_properties(forgetful_${name} PROPERTIES OUTPUT_NAME forgetful-${name}
                        RUNTIME_OUTPUT_DIRECTORY ${NSLAB_BIN_DIR}/tests)
endforeach()

# An attacker's helper for lab 04's tests: swaps two names as fast as it can.
add_executable(swap_dirs common/tests/programs/swap_dirs.cpp)
target_link_libraries(swap_dirs PRIVATE nslab_flags)
set_target_properties(swap_dirs PROPERTIES OUTPUT_NAME swap-dirs RUNTIME_OUTPUT_DIRECTORY ${NSLAB_BIN_DIR}/tests)

# A TCP server and client for lab 05's tests: one line each way, with a time limit.
add_executable(tcp_probe common/tests/programs/tcp_probe.cpp)
target_link_libraries(tcp_probe PRIVATE nslab_program)
set_target_properties(tcp_probe PROPERTIES OUTPUT_NAME tcp-probe RUNTIME_OUTPUT_DIRECTORY ${NSLAB_BIN_DIR}/tests)

# nslab_add_bats(FILE LABEL): every @test of FILE becomes its own CTest test.
# A lab's tests (LABEL labNN) each run in a sandbox of their own
# (scripts/sandbox.sh, through run-one.sh --sandbox), so they can run side by
# side (ctest -j) and none can change the real host; but a test right below a
# line "# serial: WHY" (one that measures a share of a CPU) runs alone, and so
# does every test of a file with a line "# serial file: WHY" (one whose tests
# make things no sandbox can hide: cgroups at the top of a hierarchy). The
# tests of the tools and scripts run on the host itself, one at a time (they
# share the lock nslab-host: each compares the host before and after, and some
# look at the host's own cgroups, build trees or terminals), but beside the
# labs' sandboxed tests, which change nothing the host can see but cgroups in
# a running sandbox's own subtree, which the host guard excuses; one below a
# "# serial: WHY" line (it times something, or needs a whole CPU) runs alone.
function(nslab_add_bats file label)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})
  get_filename_component(stem ${file} NAME_WE)
  file(STRINGS ${file} lines REGEX "^(@test \"|# serial: |# serial file: )")
  set(serial FALSE)
  set(serial_file FALSE)
  if(lines MATCHES "(^|;)# serial file: ")
    set(serial_file TRUE)
  endif()
  foreach(line IN LISTS lines)
    if(line MATCHES "^# serial file: ")
      continue()
    elseif(line MATCHES "^# serial: " OR serial_file)
      set(serial TRUE)
      if(line MATCHES "^# serial: ")
        continue()
      endif()
    endif()
    string(REGEX REPLACE "^@test \"(.*)\" *\\{ *$" "\\1" name "${line}")
    set(test_name "${label}/${stem}: ${name}")
    set(how "")
    set(lock nslab-host)
    # Started first (ctest starts the costliest first), so that the host's tests,
    # one after the other, run beside the labs' rather than after them.
    set(cost 100)
    if(label MATCHES "^lab[0-9][0-9]$")
      set(how --sandbox)
      set(lock "")
      set(cost 1)
    endif()
    add_test(NAME "${test_name}"
             COMMAND bash ${CMAKE_SOURCE_DIR}/common/bats/run-one.sh ${how} ${file} "${name}")
    set_tests_properties("${test_name}" PROPERTIES
      LABELS "${label};bats"
      RUN_SERIAL ${serial}
      RESOURCE_LOCK "${lock}"
      COST ${cost}
      TIMEOUT 60
      SKIP_REGULAR_EXPRESSION "ok [0-9]+ [^\n]*# skip"
      ENVIRONMENT "NSLAB_BUILD_DIR=${CMAKE_BINARY_DIR};NSLAB_SOURCE_DIR=${CMAKE_SOURCE_DIR};BATS_SUPPORT_DIR=${BATS_SUPPORT_DIR};BATS_ASSERT_DIR=${BATS_ASSERT_DIR}")
    set(serial FALSE)
  endforeach()
endfunction()

# Bats: every @test of labs/NN-name/tests/*.bats is its own CTest test, labelled
# labNN. Without Bats (see the top CMakeLists.txt) none is registered.
if(Bats_FOUND)
  foreach(lab IN LISTS NSLAB_LABS)
    string(SUBSTRING ${lab} 0 2 number)
    file(GLOB bats_files ${CMAKE_SOURCE_DIR}/labs/${lab}/tests/*.bats)
    foreach(file IN LISTS bats_files)
      nslab_add_bats(${file} lab${number})
    endforeach()
  endforeach()
  # The tools' and scripts' own tests: common/bats/NAME.bats, labelled by what
  # they test (nsinfo and the probe: tools; the scripts: scripts).
  file(GLOB common_bats_files CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/common/bats/*.bats)
  foreach(file IN LISTS common_bats_files)
    get_filename_component(stem ${file} NAME_WE)
    if(stem STREQUAL "starters")
      set(label starters)
    elseif(stem STREQUAL "safety_net")
      set(label safety)
    elseif(stem STREQUAL "bad_input")
      set(label badinput)  # every lab's program, given bad-input.txt's command lines
    elseif(stem MATCHES "^(nsinfo|probe)$")
      set(label tools)
    else()
      set(label scripts)
    endif()
    nslab_add_bats(${file} ${label})
  endforeach()
endif()
# The unit tests of the labs' parsers link the modules that hold them.
if(TARGET nslab_unit_tests)
  target_link_libraries(nslab_unit_tests PRIVATE solution_module_01-uts solution_module_04-mount)
  target_sources(nslab_unit_tests PRIVATE ${CMAKE_SOURCE_DIR}/common/tests/net_user_parsers_test.cpp
                 ${CMAKE_SOURCE_DIR}/common/tests/netlink_test.cpp)
  target_link_libraries(nslab_unit_tests PRIVATE solution_module_05-net solution_module_06-user)
  target_sources(nslab_unit_tests PRIVATE ${CMAKE_SOURCE_DIR}/common/tests/setns_parser_test.cpp)
  target_link_libraries(nslab_unit_tests PRIVATE solution_module_07-setns)
  target_sources(nslab_unit_tests PRIVATE ${CMAKE_SOURCE_DIR}/common/tests/cgroup_parser_test.cpp)
  target_link_libraries(nslab_unit_tests PRIVATE solution_module_08-cgroup)
endif()
