#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "--version") == 0) {
    printf("klaxon %s\n", KLAXON_VERSION);
    return 0;
  }
  fprintf(stderr, "klaxon: not yet\n");
  return 2;
}
