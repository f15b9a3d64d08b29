# The two other ways a project uses anodiff, each built from SOURCE_DIR (anodiff's root) in WORK_DIR:
#   MODE=subproject: add_subdirectory(anodiff) from tests/subproject_consumer, then run its consumer;
#   MODE=static: anodiff::core built as a static library, installed, and found with find_package(anodiff) by
#   tests/install_consumer (the package config must find the static library's private dependencies again).
# anodiff::core only (no LibTorch), to keep it quick.
file(REMOVE_RECURSE "${WORK_DIR}")
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(rc)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}")
  endif()
endfunction()
if(MODE STREQUAL "subproject")
  run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/subproject_consumer" -B "${WORK_DIR}/build" -DCMAKE_BUILD_TYPE=Release
      -DANODIFF_SOURCE=${SOURCE_DIR})
  run(${CMAKE_COMMAND} --build "${WORK_DIR}/build" -j 2)
  if(EXISTS "${WORK_DIR}/build/anodiff/examples")
    message(FATAL_ERROR "anodiff as a subproject configured its examples")
  endif()
  run("${WORK_DIR}/build/consumer_core")
elseif(MODE STREQUAL "static")
  run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/anodiff" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF
      -DANODIFF_WITH_TORCH=OFF -DANODIFF_BUILD_EXAMPLES=OFF -DANODIFF_BUILD_TESTS=OFF)
  run(${CMAKE_COMMAND} --build "${WORK_DIR}/anodiff" -j 2)
  run(${CMAKE_COMMAND} --install "${WORK_DIR}/anodiff" --prefix "${WORK_DIR}/prefix")
  if(NOT EXISTS "${WORK_DIR}/prefix/lib/libanodiff_core.a" AND NOT EXISTS "${WORK_DIR}/prefix/lib64/libanodiff_core.a")
    file(GLOB_RECURSE found "${WORK_DIR}/prefix/*anodiff_core*")
    message(FATAL_ERROR "no static libanodiff_core.a installed (found: ${found})")
  endif()
  run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/install_consumer" -B "${WORK_DIR}/consumer" -DCMAKE_BUILD_TYPE=Release
      -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DWITH_TORCH=OFF)
  run(${CMAKE_COMMAND} --build "${WORK_DIR}/consumer" -j 2)
  run("${WORK_DIR}/consumer/consumer_core")
else()
  message(FATAL_ERROR "MODE must be subproject or static, got '${MODE}'")
endif()
