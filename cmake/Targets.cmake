# asn_add_library(name DIR dir DEPS ... [EXCLUDE file ...]): one static library per source folder,
# from every .cpp below it (and every .cu when the CUDA backend is on), minus the EXCLUDE files
# (paths relative to DIR; each must exist, so a renamed file is an error, not a silent no-op).
# Folders depend one way: engine <- kernels <- autograd <- layers <- graph <- apps.
function(asn_add_library name)
  cmake_parse_arguments(ARG "" "DIR" "DEPS;EXCLUDE" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${ARG_DIR}/*.cpp)
  if(ASN_CUDA_ENABLED)
    file(GLOB_RECURSE cu_srcs CONFIGURE_DEPENDS ${ARG_DIR}/*.cu)
    list(APPEND srcs ${cu_srcs})
  endif()
  foreach(ex ${ARG_EXCLUDE})
    get_filename_component(ex_abs ${ex} ABSOLUTE BASE_DIR ${ARG_DIR})
    if(NOT EXISTS ${ex_abs})
      message(FATAL_ERROR "asn_add_library(${name}): EXCLUDE ${ex}: no such file in ${ARG_DIR}")
    endif()
    list(REMOVE_ITEM srcs ${ex_abs})
  endforeach()
  if(NOT srcs)
    # A folder without sources yet: an interface target keeps the dependency chain intact.
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  asn_target_flags(${name})
endfunction()

function(asn_target_flags target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>
    $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -Xcompiler=-Wall,-Wno-unused-parameter>)
  if(ASN_NATIVE_ARCH)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
  endif()
  if(ASN_CUDA_ENABLED)
    set_target_properties(${target} PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
  endif()
endfunction()
