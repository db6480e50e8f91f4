// swap-dirs A B SECONDS: exchanges the names A and B (renameat2 RENAME_EXCHANGE)
// as fast as it can for SECONDS, as an attacker who can write to a root
// filesystem's parent directory would, between the runtime's check of --rootfs
// and its use. For the Bats tests of lab 04.

#include <fcntl.h>
#include <stdio.h>

#include <chrono>
#include <cstdlib>
#include <string>

int main(int argc, char* argv[]) {
  if (argc != 4) {
    (void)std::fputs("usage: swap-dirs A B SECONDS\n", stderr);
    return 2;
  }
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(std::stoi(argv[3]));
  long swaps = 0;
  while (std::chrono::steady_clock::now() < end) {
    if (::renameat2(AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) == 0) ++swaps;
  }
  // An even number of swaps leaves the names as they were.
  if (swaps % 2 != 0) (void)::renameat2(AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE);
  return swaps > 0 ? 0 : 1;
}
