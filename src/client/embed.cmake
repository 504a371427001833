# switchboard_embed(<out.cpp> <function> <file>): writes a source file defining
#   std::string_view <function>();
# that returns the bytes of <file>, so a binary serves its page or script with nothing to install beside it.
# The bytes go in as a hex array: no raw-string delimiter or @VAR@ in the file can break the generated code.
function(switchboard_embed out function file)
  file(READ ${file} hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  set(text "// Generated from ${file} by CMake (switchboard_embed); edit that file.\n#include <string_view>\n\n")
  string(APPEND text "std::string_view ${function}()\n{\n    static constexpr char const bytes[] = {\n${bytes}\n    };\n")
  string(APPEND text "    return {bytes, ${size}};\n}\n")
  file(CONFIGURE OUTPUT ${out} CONTENT "${text}" @ONLY)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})
endfunction()
