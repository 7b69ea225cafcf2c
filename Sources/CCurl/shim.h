// Typed entry points into libcurl for Swift.
//
// curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic C
// functions, which Swift cannot call. Each wrapper below fixes one argument
// type, so the Swift side stays type-checked.
#ifndef GOEDGE_CCURL_SHIM_H
#define GOEDGE_CCURL_SHIM_H

#include <curl/curl.h>

static inline CURLcode goedge_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode goedge_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode goedge_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode goedge_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode goedge_curl_easy_setopt_write_callback(CURL *handle, CURLoption option, curl_write_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode goedge_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode goedge_curl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode goedge_curl_easy_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLMcode goedge_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}

/// The result of a finished transfer lives in a union that Swift cannot read safely.
static inline CURLcode goedge_curl_msg_result(const CURLMsg *message) {
    return message->data.result;
}

static inline long goedge_curl_global_default(void) { return CURL_GLOBAL_DEFAULT; }
static inline size_t goedge_curl_writefunc_pause(void) { return CURL_WRITEFUNC_PAUSE; }
static inline CURLcode goedge_curl_resume(CURL *handle) { return curl_easy_pause(handle, CURLPAUSE_CONT); }
static inline long goedge_curl_netrc_optional(void) { return CURL_NETRC_OPTIONAL; }

#endif
