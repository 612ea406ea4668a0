// Whether this test binary runs under ThreadSanitizer: some cases cannot
// (its runtime starts a thread of its own at a process's first
// pthread_create, and cannot start threads in a child forked from a process
// with threads) and skip themselves.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define GLOBALLOC_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GLOBALLOC_TEST_TSAN 1
#endif
#endif

#ifdef GLOBALLOC_TEST_TSAN
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif
