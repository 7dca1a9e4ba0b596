/*
 * A Node addon with one function, trim(): glibc's malloc_trim(0), which gives the kernel
 * back every whole free page of the allocator's heap, not only its top (what
 * MALLOC_TRIM_THRESHOLD_ does on each free). The supervisor calls it after its collections
 * (src/supervisor/lifecycle/settle-gc.ts): a burst of output leaves the heap full of holes
 * between the buffers that live on (the history's chunks, xterm's lines), measured 2.6 MB
 * of a supervisor holding a full 10 000-line history.
 *
 * Built by scripts/build-relay.js with the plain C compiler, without Node's headers: the
 * few Node-API declarations it needs are here, the symbols come from the node binary.
 */
#include <malloc.h>
#include <stddef.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status;
typedef napi_value (*napi_callback)(napi_env, napi_callback_info);
#define NAPI_AUTO_LENGTH ((size_t)-1)

extern napi_status napi_create_function(napi_env, const char *, size_t, napi_callback, void *, napi_value *);
extern napi_status napi_set_named_property(napi_env, napi_value, const char *, napi_value);
extern napi_status napi_get_boolean(napi_env, int, napi_value *);

/* trim(): true when memory was given back. */
static napi_value trim(napi_env env, napi_callback_info info) {
  napi_value released = NULL;
  (void)info;
  napi_get_boolean(env, malloc_trim(0), &released);
  return released;
}

__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &fn) == 0) napi_set_named_property(env, exports, "trim", fn);
  return exports;
}
