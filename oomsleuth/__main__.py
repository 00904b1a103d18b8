from oomsleuth.cli import main

main()
