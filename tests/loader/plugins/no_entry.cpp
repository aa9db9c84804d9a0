// A shared library that is not a dicomd plugin: no entry point.
extern "C" __attribute__((visibility("default"))) int some_other_function(void) {
  return 42;
}
