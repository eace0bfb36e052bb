from pantau_tools.deadletters.cli import main

raise SystemExit(main())
