# Builds and runs tests/cmake/consumer against switchboard. Run with cmake -P and:
#   MODE=add_subdirectory SOURCE_DIR=<switchboard sources> BUILD_TYPE=<the project build's type>
#                         BUILD_TYPE_FLAGS=<its CMAKE_CXX_FLAGS_<TYPE>> WORK_DIR=<scratch>
#   MODE=find_package     BUILD_DIR=<configured switchboard build> WORK_DIR=<scratch>
cmake_minimum_required(VERSION 3.25)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(consumer ${CMAKE_CURRENT_LIST_DIR}/consumer)
set(launcher "")
find_program(ccache ccache)
if(ccache)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${ccache})
endif()

set(build_env "")
if(MODE STREQUAL "add_subdirectory")
  # The library compiled exactly as the project's own build compiles it (build type and its flags, warnings), and ccache told
  # to ignore the build directory's path: its objects then come from the cache. What this test checks is the
  # CMake wiring; compiling the library again took 6 minutes, with 4 compilers beside the browser tests.
  string(TOUPPER "${BUILD_TYPE}" build_type)
  run(${CMAKE_COMMAND} -S ${consumer} -B ${WORK_DIR}/build -G Ninja ${launcher} -DSWITCHBOARD_SOURCE_DIR=${SOURCE_DIR}
      -DCMAKE_BUILD_TYPE=${BUILD_TYPE} "-DCMAKE_CXX_FLAGS_${build_type}=${BUILD_TYPE_FLAGS}" -DSWITCHBOARD_WARNINGS=ON)
  set(build_env ${CMAKE_COMMAND} -E env CCACHE_NOHASHDIR=1)
elseif(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
  run(${CMAKE_COMMAND} -S ${consumer} -B ${WORK_DIR}/build -G Ninja ${launcher} -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
else()
  message(FATAL_ERROR "MODE must be add_subdirectory or find_package")
endif()
run(${build_env} ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
message(STATUS "consumer built with ${MODE} and ran")
