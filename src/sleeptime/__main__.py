from sleeptime.cli import main

main()
