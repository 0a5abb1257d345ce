@echo off
rem octane render daemon (port {{PORT}}){{KEY}}; written by "octane daemon install"
start "octane daemon" /min {{EXEC}}
