#include "nslab/error.hpp"

#include <cstring>

namespace nslab {
namespace {

std::string describe(int errnum, const std::string& context) {
  if (errnum == 0) return context;
  return context + ": " + std::strerror(errnum);
}

}  // namespace

Error::Error(int errnum, const std::string& context)
    : std::runtime_error(describe(errnum, context)), errnum_(errnum), context_(context) {}

void throw_errno(const std::string& context) {
  const int saved = errno;  // before anything else can change it
  throw Error(saved, context);
}

long check(long result, const std::string& context) {
  if (result == -1) throw_errno(context);
  return result;
}

}  // namespace nslab
