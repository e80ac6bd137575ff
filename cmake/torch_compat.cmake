# What orch needs to know about the LibTorch that find_package(Torch) found, checked once
# after every find_package() (docs/development.md, "Building against another LibTorch"):
#   - its C++ string ABI, which must be the one of the Debian libraries orch links;
#   - the C++ standard its headers ask for (ORCH_CXX_STANDARD);
#   - whether it ships fmt headers of its own (pip wheels do), which would shadow the fmt
#     that spdlog was built with (ORCH_FMT_INCLUDE_FIRST).

# SQLiteCpp, spdlog, fmt and Boost.Filesystem from Debian pass std::string across their
# interfaces in the C++11 ABI; TorchConfig.cmake says which ABI LibTorch was built with.
if(TORCH_CXX_FLAGS MATCHES "_GLIBCXX_USE_CXX11_ABI=0")
  message(FATAL_ERROR
    "orch: the LibTorch ${Torch_VERSION} in ${TORCH_INSTALL_PREFIX} was built with the old "
    "C++ string ABI (-D_GLIBCXX_USE_CXX11_ABI=0, as PyTorch's pip wheels were up to 2.6), "
    "which cannot be linked with the C++11-ABI Debian libraries orch uses, so point "
    "CMAKE_PREFIX_PATH at a LibTorch built with the C++11 ABI (pip's PyTorch 2.7 or newer, "
    "2.6's cu126 wheels, or a 'cxx11 ABI' LibTorch download) or drop it to use Debian's "
    "libtorch-dev.")
endif()

# The directory that holds ATen/ and c10/ (and, in a pip wheel, fmt/).
set(ORCH_TORCH_INCLUDE_DIR "")
foreach(dir IN LISTS TORCH_INCLUDE_DIRS)
  if(EXISTS "${dir}/ATen/ATen.h")
    set(ORCH_TORCH_INCLUDE_DIR "${dir}")
    break()
  endif()
endforeach()

# orch is C++17, as LibTorch 1.13 and the 2.x releases before 2.12 or so are; newer headers
# stop with "#error C++20 or later compatible compiler is required to use ATen".
set(ORCH_CXX_STANDARD 17)
if(ORCH_TORCH_INCLUDE_DIR)
  file(STRINGS "${ORCH_TORCH_INCLUDE_DIR}/ATen/ATen.h" orch_needs_cxx20 REGEX "C\\+\\+20 or later")
  if(orch_needs_cxx20)
    set(ORCH_CXX_STANDARD 20)
  endif()
endif()
set(CMAKE_CXX_STANDARD ${ORCH_CXX_STANDARD})

# A pip LibTorch puts its own (newer) fmt beside ATen/. Host code that includes spdlog
# must see the fmt spdlog was compiled against, so when the two differ a directory holding
# only spdlog's fmt goes first on those targets' include path (CMakeLists.txt applies it).
function(orch_fmt_version include_dir out)
  set(version "")
  foreach(header base.h core.h)
    if(NOT version AND EXISTS "${include_dir}/fmt/${header}")
      file(STRINGS "${include_dir}/fmt/${header}" line REGEX "^#define FMT_VERSION [0-9]+")
      string(REGEX MATCH "[0-9]+" version "${line}")
    endif()
  endforeach()
  set(${out} "${version}" PARENT_SCOPE)
endfunction()
set(ORCH_FMT_INCLUDE_FIRST "")
if(ORCH_TORCH_INCLUDE_DIR AND TARGET fmt::fmt)
  get_target_property(orch_fmt_include fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
  list(GET orch_fmt_include 0 orch_fmt_include)
  orch_fmt_version("${ORCH_TORCH_INCLUDE_DIR}" orch_torch_fmt)
  orch_fmt_version("${orch_fmt_include}" orch_spdlog_fmt)
  if(orch_torch_fmt AND orch_spdlog_fmt AND NOT orch_torch_fmt STREQUAL orch_spdlog_fmt)
    set(ORCH_FMT_INCLUDE_FIRST "${PROJECT_BINARY_DIR}/fmt_first")
    file(MAKE_DIRECTORY "${ORCH_FMT_INCLUDE_FIRST}")
    file(CREATE_LINK "${orch_fmt_include}/fmt" "${ORCH_FMT_INCLUDE_FIRST}/fmt" SYMBOLIC)
  endif()
endif()

set(orch_torch_summary "LibTorch ${Torch_VERSION} in ${TORCH_INSTALL_PREFIX}, C++11 ABI")
string(APPEND orch_torch_summary ", C++${ORCH_CXX_STANDARD}")
if(ORCH_FMT_INCLUDE_FIRST)
  string(APPEND orch_torch_summary
         ", spdlog's fmt ${orch_spdlog_fmt} ahead of LibTorch's ${orch_torch_fmt}")
endif()
message(STATUS "orch: ${orch_torch_summary}")
