# cmake -DIN=header-default.html -DOUT=header.html -DOTHER=zh -DOTHER_NAME=中文 -P lang-header.cmake
#
# Makes the HTML header of one language's pages from Doxygen's own default
# header (`doxygen -w html`, written next to it by docs/CMakeLists.txt): the same
# header, plus a link at the top of every page, next to the project's name and
# version, to the same page in the other language's build. Both builds are made from the same labels and headers, so
# every page has a twin of the same file name: build/docs/OTHER/html/<page>.html.
# Without JavaScript the link leads to the other language's main page.
foreach(var IN ITEMS IN OUT OTHER OTHER_NAME)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "lang-header.cmake: needs -D${var}=...")
  endif()
endforeach()
file(READ "${IN}" header)
set(anchor "<!--END PROJECT_NUMBER-->")
string(FIND "${header}" "${anchor}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "lang-header.cmake: ${IN} has no ${anchor}: this Doxygen's default header differs from 1.9's; adapt docs/cmake/lang-header.cmake")
endif()
set(link [=[<span id="nslab-lang"><a id="nslab-lang-link" href="$relpath^../../@OTHER@/html/index.html" hreflang="@OTHER@" lang="@OTHER@">@OTHER_NAME@</a></span><script type="text/javascript">
/* The same page, and the same section, in the other language. */
(function () {
  var link = document.getElementById('nslab-lang-link');
  function point() {
    var page = window.location.pathname.split('/').pop() || 'index.html';
    link.href = '$relpath^../../@OTHER@/html/' + page + window.location.hash;
  }
  point();
  window.addEventListener('hashchange', point);
})();
</script>]=])
string(CONFIGURE "${link}" link @ONLY)
string(REPLACE "${anchor}" "${anchor}${link}" header "${header}")
file(WRITE "${OUT}" "${header}")
