// The conformance suite over the peer backends, through their explicit API
// (no registration): each one found at configure time is instantiated.
#include <globalloc/testing/conformance.hpp>

#ifdef GLOBALLOC_HAVE_JEMALLOC
#include "globalloc/backends/jemalloc.hpp"
GLOBALLOC_CONFORMANCE_SUITE(Jemalloc, globalloc::JemallocAllocator);
#endif
#ifdef GLOBALLOC_HAVE_MIMALLOC
#include "globalloc/backends/mimalloc.hpp"
GLOBALLOC_CONFORMANCE_SUITE(Mimalloc, globalloc::MimallocAllocator);
#endif
#ifdef GLOBALLOC_HAVE_TCMALLOC
#include "globalloc/backends/tcmalloc.hpp"
GLOBALLOC_CONFORMANCE_SUITE(Tcmalloc, globalloc::TcmallocAllocator);
#endif
