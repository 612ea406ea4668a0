// <globalloc/globalloc.hpp>: the contract, the registration macros, the
// built-in allocators (system, fast, hardened) and the C API in one include.
#pragma once

#include "globalloc/contract.hpp"
#include "globalloc/globalloc.h"
#include "globalloc/hardened_allocator.hpp"
#include "globalloc/fast_allocator.hpp"
#include "globalloc/layout.hpp"
#include "globalloc/registration.hpp"
#include "globalloc/size_header.hpp"
#include "globalloc/system_allocator.hpp"
