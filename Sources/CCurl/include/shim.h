// Typed entry points into libcurl for Swift, with libcurl loaded on first use.
//
// goedge does not link libcurl: a socket-activated start that answers from
// the cache needs none of it, and loading libcurl and the ~35 libraries it
// brings was most of the dynamic loader's work at every start. The first
// upstream transfer calls goedge_curl_load() (loader.c), which opens
// libcurl.so.4 and finds its functions; every wrapper below calls through
// that table.
//
// curl_easy_setopt is a variadic C function, which Swift cannot call. Each
// setopt wrapper fixes one argument type, so the Swift side stays type-checked.
#ifndef GOEDGE_CCURL_SHIM_H
#define GOEDGE_CCURL_SHIM_H

#include <curl/curl.h>

struct goedge_curl_functions {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *handle);
    CURLcode (*easy_setopt)(CURL *handle, CURLoption option, ...);
    CURLcode (*easy_pause)(CURL *handle, int bitmask);
    const char *(*easy_strerror)(CURLcode code);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *multi);
    CURLMcode (*multi_add_handle)(CURLM *multi, CURL *handle);
    CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *handle);
    CURLMcode (*multi_perform)(CURLM *multi, int *running);
    CURLMcode (*multi_poll)(CURLM *multi, struct curl_waitfd extra[], unsigned int count, int timeout, int *ready);
    CURLMcode (*multi_wakeup)(CURLM *multi);
    CURLMsg *(*multi_info_read)(CURLM *multi, int *remaining);
    const char *(*multi_strerror)(CURLMcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *text);
    void (*slist_free_all)(struct curl_slist *list);
};

// The table and the loader live in loader.c (one copy per program).
extern struct goedge_curl_functions goedge_curl;

/// Loads libcurl (once, thread-safe) and initializes it: NULL when it is
/// ready, else why not. Nothing below may be called until it returned NULL.
const char *goedge_curl_load(void);

static inline CURL *goedge_curl_easy_init(void) { return goedge_curl.easy_init(); }
static inline void goedge_curl_easy_cleanup(CURL *handle) { goedge_curl.easy_cleanup(handle); }
static inline const char *goedge_curl_easy_strerror(CURLcode code) { return goedge_curl.easy_strerror(code); }

static inline CURLcode goedge_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return goedge_curl.easy_setopt(handle, option, value);
}

static inline CURLcode goedge_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return goedge_curl.easy_setopt(handle, option, value);
}

static inline CURLcode goedge_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return goedge_curl.easy_setopt(handle, option, value);
}

static inline CURLcode goedge_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return goedge_curl.easy_setopt(handle, option, value);
}

static inline CURLcode goedge_curl_easy_setopt_write_callback(CURL *handle, CURLoption option, curl_write_callback value) {
    return goedge_curl.easy_setopt(handle, option, value);
}

static inline CURLcode goedge_curl_easy_setopt_read_callback(CURL *handle, CURLoption option, curl_read_callback value) {
    return goedge_curl.easy_setopt(handle, option, value);
}

static inline CURLcode goedge_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return goedge_curl.easy_setopt(handle, option, value);
}

static inline size_t goedge_curl_readfunc_abort(void) { return CURL_READFUNC_ABORT; }

static inline CURLM *goedge_curl_multi_init(void) { return goedge_curl.multi_init(); }
static inline CURLMcode goedge_curl_multi_cleanup(CURLM *multi) { return goedge_curl.multi_cleanup(multi); }
static inline CURLMcode goedge_curl_multi_add_handle(CURLM *multi, CURL *handle) { return goedge_curl.multi_add_handle(multi, handle); }
static inline CURLMcode goedge_curl_multi_remove_handle(CURLM *multi, CURL *handle) {
    return goedge_curl.multi_remove_handle(multi, handle);
}
static inline CURLMcode goedge_curl_multi_perform(CURLM *multi, int *running) { return goedge_curl.multi_perform(multi, running); }
static inline CURLMcode goedge_curl_multi_poll(CURLM *multi, int timeout) { return goedge_curl.multi_poll(multi, NULL, 0, timeout, NULL); }
static inline CURLMcode goedge_curl_multi_wakeup(CURLM *multi) { return goedge_curl.multi_wakeup(multi); }
static inline CURLMsg *goedge_curl_multi_info_read(CURLM *multi, int *remaining) { return goedge_curl.multi_info_read(multi, remaining); }
static inline const char *goedge_curl_multi_strerror(CURLMcode code) { return goedge_curl.multi_strerror(code); }

static inline struct curl_slist *goedge_curl_slist_append(struct curl_slist *list, const char *text) {
    return goedge_curl.slist_append(list, text);
}
static inline void goedge_curl_slist_free_all(struct curl_slist *list) { goedge_curl.slist_free_all(list); }

/// The result of a finished transfer lives in a union that Swift cannot read safely.
static inline CURLcode goedge_curl_msg_result(const CURLMsg *message) {
    return message->data.result;
}

static inline size_t goedge_curl_writefunc_pause(void) { return CURL_WRITEFUNC_PAUSE; }
static inline CURLcode goedge_curl_resume(CURL *handle) { return goedge_curl.easy_pause(handle, CURLPAUSE_CONT); }
static inline long goedge_curl_netrc_optional(void) { return CURL_NETRC_OPTIONAL; }

#endif
