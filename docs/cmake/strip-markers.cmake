# cmake -DIN=solutions/NN-name/x.cpp -DOUT=build/docs/snippets/NN-name/x.cpp -P strip-markers.cmake
#
# Writes a copy of one reference source without the lines that mark a learner's
# region (`// >>> lab NN: what | section` and `// <<< lab NN`, see
# scripts/make-starters.sh), so that the code a tutorial quotes with \snippet
# reads as plain C++.
if(NOT DEFINED IN OR NOT DEFINED OUT)
  message(FATAL_ERROR "strip-markers.cmake: needs -DIN=source -DOUT=copy")
endif()
file(READ "${IN}" text)
# A marker line is a whole line: match it with the newline before it. The same
# patterns as scripts/make-starters.sh.
string(REGEX REPLACE "\n[ \t]*// >>> lab [0-9][0-9]: [^\n]*" "" text "\n${text}")
string(REGEX REPLACE "\n[ \t]*// <<< lab [0-9][0-9][ \t]*(\n|$)" "\\1" text "${text}")
string(SUBSTRING "${text}" 1 -1 text)
if(text MATCHES "// (>>>|<<<) lab [0-9]")
  message(FATAL_ERROR "strip-markers.cmake: ${IN}: a lab marker is left that is not a whole line")
endif()
file(WRITE "${OUT}" "${text}")
