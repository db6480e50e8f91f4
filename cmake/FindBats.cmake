# FindBats: the Bats test runner and the two helper libraries every nslab .bats
# file loads (common/bats/nslab.bash).
#
#   find_package(Bats)   sets Bats_FOUND, BATS_EXECUTABLE, BATS_SUPPORT_DIR,
#                        BATS_ASSERT_DIR, and, when something is missing,
#                        Bats_MISSING_TEXT ("bats-support, bats-assert") and
#                        Bats_MISSING_PACKAGES (where to get them).
#
# A cache variable may point elsewhere (-DBATS_SUPPORT_DIR=...); it counts only
# if it holds what is needed, so a stale or wrong path reads as missing.

find_program(BATS_EXECUTABLE bats DOC "the Bats test runner")
# Not packaged everywhere: Debian puts them in /usr/lib/bats/, a clone from the
# bats-core project goes wherever its owner likes.
set(_bats_library_paths /usr/lib/bats /usr/share/bats /usr/lib /usr/local/lib /usr/local/lib/bats)
find_path(BATS_SUPPORT_DIR load.bash PATHS ${_bats_library_paths} PATH_SUFFIXES bats-support
          NO_DEFAULT_PATH DOC "bats-support, the directory that holds its load.bash")
find_path(BATS_ASSERT_DIR load.bash PATHS ${_bats_library_paths} PATH_SUFFIXES bats-assert
          NO_DEFAULT_PATH DOC "bats-assert, the directory that holds its load.bash")

set(_bats_missing "")
set(_bats_libraries_missing "")
if(NOT BATS_EXECUTABLE OR NOT EXISTS "${BATS_EXECUTABLE}")
  list(APPEND _bats_missing bats)
endif()
if(NOT EXISTS "${BATS_SUPPORT_DIR}/load.bash")
  list(APPEND _bats_libraries_missing bats-support)
endif()
if(NOT EXISTS "${BATS_ASSERT_DIR}/load.bash")
  list(APPEND _bats_libraries_missing bats-assert)
endif()
list(APPEND _bats_missing ${_bats_libraries_missing})

if(_bats_missing)
  set(Bats_FOUND FALSE)
  list(JOIN _bats_missing ", " Bats_MISSING_TEXT)
  list(JOIN _bats_missing " " _bats_debian)
  # Fedora packages bats, but not the two libraries.
  set(_bats_fedora "")
  if("bats" IN_LIST _bats_missing)
    set(_bats_fedora "bats")
  endif()
  if(_bats_libraries_missing)
    list(JOIN _bats_libraries_missing " and " _bats_libraries_text)
    if(_bats_fedora)
      string(APPEND _bats_fedora ", and ")
    endif()
    string(APPEND _bats_fedora "${_bats_libraries_text} cloned from the bats-core project into /usr/lib/bats/")
  endif()
  set(Bats_MISSING_PACKAGES "Debian: ${_bats_debian}, Fedora: ${_bats_fedora}")
  if(Bats_FIND_REQUIRED)
    message(FATAL_ERROR "${Bats_MISSING_TEXT} not found (${Bats_MISSING_PACKAGES})")
  endif()
else()
  set(Bats_FOUND TRUE)
  set(Bats_MISSING_TEXT "")
  set(Bats_MISSING_PACKAGES "")
endif()
unset(_bats_library_paths)
unset(_bats_missing)
unset(_bats_libraries_missing)
unset(_bats_libraries_text)
unset(_bats_debian)
unset(_bats_fedora)
