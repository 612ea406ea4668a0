// <globalloc/globalloc.hpp>: the contract, the registration macros and the
// built-in allocators in one include.
#pragma once

#include "globalloc/contract.hpp"
#include "globalloc/fast_allocator.hpp"
#include "globalloc/layout.hpp"
#include "globalloc/registration.hpp"
#include "globalloc/size_header.hpp"
#include "globalloc/system_allocator.hpp"
