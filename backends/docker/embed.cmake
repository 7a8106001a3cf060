# Writes OUT: the default dockerfiles as C strings (cmake -P script).
function(to_c var file out)
  file(READ ${file} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  set(${out} "static const char ${var}[] = {${hex} 0x00};\n" PARENT_SCOPE)
endfunction()
to_c(dock_embedded_runner ${RUNNER} r)
to_c(dock_embedded_shared ${SHARED} s)
file(WRITE ${OUT} "/* Generated from dockerfiles/ by embed.cmake: do not edit. */\n${r}${s}")
